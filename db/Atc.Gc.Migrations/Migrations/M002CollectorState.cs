using FluentMigrator;

namespace Atc.Gc.Migrations.Migrations;

/// <summary>
/// What the collector needs to remember between passes: which completed builds have released their
/// containers and caches, which destroying volumes a collector has claimed (with a lease, so claims
/// of a dead process expire), and a dirty flag: triggers that NOTIFY the collectors when something
/// that may free a volume happens, so a pass runs at once instead of at the next interval.
/// </summary>
[Migration(2, "Collector state: build release marks, delete claims, dirty-flag notifications")]
public sealed class M002CollectorState : Migration
{
    public override void Up() => Execute.Sql(
        """
        ALTER TABLE builds ADD COLUMN released_at timestamptz;
        -- completed builds whose containers and caches are still held: a handful per job at most
        CREATE INDEX builds_unreleased ON builds (id) WHERE completed AND released_at IS NULL;

        ALTER TABLE volumes
            ADD COLUMN claimed_by text,
            ADD COLUMN claim_expires_at timestamptz,
            ADD COLUMN delete_attempts integer NOT NULL DEFAULT 0,
            ADD COLUMN last_delete_error text;

        -- The dirty flag. NOTIFY folds identical notifications of one transaction into one, so a
        -- statement touching many rows wakes the collectors once.
        CREATE FUNCTION atc_gc_mark_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('atc_gc_collect', TG_TABLE_NAME);
            RETURN NULL;
        END
        $$;

        -- owners going away
        CREATE TRIGGER containers_dirty AFTER DELETE ON containers
            FOR EACH ROW EXECUTE FUNCTION atc_gc_mark_dirty();
        CREATE TRIGGER resource_caches_dirty AFTER DELETE ON resource_caches
            FOR EACH ROW EXECUTE FUNCTION atc_gc_mark_dirty();
        CREATE TRIGGER resource_cache_uses_dirty AFTER DELETE ON resource_cache_uses
            FOR EACH ROW EXECUTE FUNCTION atc_gc_mark_dirty();
        CREATE TRIGGER task_caches_dirty AFTER DELETE ON task_caches
            FOR EACH ROW EXECUTE FUNCTION atc_gc_mark_dirty();
        CREATE TRIGGER worker_base_resource_types_dirty AFTER DELETE ON worker_base_resource_types
            FOR EACH ROW EXECUTE FUNCTION atc_gc_mark_dirty();
        CREATE TRIGGER next_build_inputs_dirty AFTER DELETE OR UPDATE ON next_build_inputs
            FOR EACH ROW EXECUTE FUNCTION atc_gc_mark_dirty();
        CREATE TRIGGER builds_deleted_dirty AFTER DELETE ON builds
            FOR EACH ROW EXECUTE FUNCTION atc_gc_mark_dirty();
        CREATE TRIGGER jobs_deleted_dirty AFTER DELETE ON jobs
            FOR EACH ROW EXECUTE FUNCTION atc_gc_mark_dirty();
        CREATE TRIGGER pipelines_deleted_dirty AFTER DELETE ON pipelines
            FOR EACH ROW EXECUTE FUNCTION atc_gc_mark_dirty();

        -- owners letting go
        CREATE TRIGGER builds_finished_dirty AFTER UPDATE OF status ON builds
            FOR EACH ROW WHEN (NEW.completed AND NOT OLD.completed) EXECUTE FUNCTION atc_gc_mark_dirty();
        CREATE TRIGGER pipelines_paused_dirty AFTER UPDATE OF paused, archived ON pipelines
            FOR EACH ROW WHEN ((NEW.paused AND NOT OLD.paused) OR (NEW.archived AND NOT OLD.archived))
            EXECUTE FUNCTION atc_gc_mark_dirty();
        CREATE TRIGGER jobs_removed_dirty AFTER UPDATE OF active ON jobs
            FOR EACH ROW WHEN (OLD.active AND NOT NEW.active) EXECUTE FUNCTION atc_gc_mark_dirty();
        CREATE TRIGGER resources_removed_dirty AFTER UPDATE OF active ON resources
            FOR EACH ROW WHEN (OLD.active AND NOT NEW.active) EXECUTE FUNCTION atc_gc_mark_dirty();
        CREATE TRIGGER resource_types_removed_dirty AFTER UPDATE OF active ON resource_types
            FOR EACH ROW WHEN (OLD.active AND NOT NEW.active) EXECUTE FUNCTION atc_gc_mark_dirty();

        -- a child volume gone: its parent may be an orphan now (a copy-on-write chain is reclaimed
        -- level by level, in back-to-back passes)
        CREATE TRIGGER volumes_child_deleted_dirty AFTER DELETE ON volumes
            FOR EACH ROW WHEN (OLD.parent_id IS NOT NULL) EXECUTE FUNCTION atc_gc_mark_dirty();

        -- a worker becoming reachable again: its destroying volumes can be deleted now
        CREATE TRIGGER workers_state_dirty AFTER UPDATE OF state ON workers
            FOR EACH ROW WHEN (NEW.state IS DISTINCT FROM OLD.state) EXECUTE FUNCTION atc_gc_mark_dirty();
        """);

    public override void Down() => Execute.Sql(
        """
        DROP TRIGGER workers_state_dirty ON workers;
        DROP TRIGGER volumes_child_deleted_dirty ON volumes;
        DROP TRIGGER resource_types_removed_dirty ON resource_types;
        DROP TRIGGER resources_removed_dirty ON resources;
        DROP TRIGGER jobs_removed_dirty ON jobs;
        DROP TRIGGER pipelines_paused_dirty ON pipelines;
        DROP TRIGGER builds_finished_dirty ON builds;
        DROP TRIGGER pipelines_deleted_dirty ON pipelines;
        DROP TRIGGER jobs_deleted_dirty ON jobs;
        DROP TRIGGER builds_deleted_dirty ON builds;
        DROP TRIGGER next_build_inputs_dirty ON next_build_inputs;
        DROP TRIGGER worker_base_resource_types_dirty ON worker_base_resource_types;
        DROP TRIGGER task_caches_dirty ON task_caches;
        DROP TRIGGER resource_cache_uses_dirty ON resource_cache_uses;
        DROP TRIGGER resource_caches_dirty ON resource_caches;
        DROP TRIGGER containers_dirty ON containers;
        DROP FUNCTION atc_gc_mark_dirty();
        ALTER TABLE volumes DROP COLUMN last_delete_error, DROP COLUMN delete_attempts,
            DROP COLUMN claim_expires_at, DROP COLUMN claimed_by;
        DROP INDEX builds_unreleased;
        ALTER TABLE builds DROP COLUMN released_at;
        """);
}
