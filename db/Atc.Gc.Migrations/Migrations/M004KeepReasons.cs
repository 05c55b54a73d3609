using FluentMigrator;

namespace Atc.Gc.Migrations.Migrations;

/// <summary>
/// Keep-reasons that cannot vanish, volume reports that count, and a database identity.
/// <list type="bullet">
/// <item>A next build input or a build's image no longer disappears when its cache is deleted
/// (<c>ON DELETE RESTRICT</c> instead of CASCADE): whoever deletes a cache deletes the pins it has
/// decided are stale, in the same statement, and a pin it has not seen makes the delete fail.</item>
/// <item><c>volumes.missing_reports</c>: how many reports, taken after a volume was marked missing,
/// did not list it. A volume is forgotten after enough of them, not after some time.</item>
/// <item><c>installation</c>: one row, this database's identity. Agents remember it; an agent that
/// finds another identity destroys nothing until an operator confirms.</item>
/// <item><c>workers.hold</c> and friends: why unknown volumes of a worker are not destroyed (its agent
/// knew another database, or most of what it reported is unknown), until an operator adopts it — which
/// lets the agent take this identity on its next registration and its next report destroy what is unknown.</item>
/// <item>A task cache's time to live is not negative; zero means it never expires.</item>
/// <item>Indexes for the lifecycle's new predicates: orphans are created or initialized (a failed
/// volume is discarded by its own transition), and failed volumes.</item>
/// </list>
/// </summary>
[Migration(4, "Keep-reasons that cannot vanish, counted missing reports, installation identity, worker holds")]
public sealed class M004KeepReasons : Migration
{
    public override void Up() => Execute.Sql(
        """
        ALTER TABLE next_build_inputs
            DROP CONSTRAINT next_build_inputs_resource_cache_id_fkey,
            ADD CONSTRAINT next_build_inputs_resource_cache_id_fkey
                FOREIGN KEY (resource_cache_id) REFERENCES resource_caches (id) ON DELETE RESTRICT;
        ALTER TABLE image_resource_versions
            DROP CONSTRAINT image_resource_versions_resource_cache_id_fkey,
            ADD CONSTRAINT image_resource_versions_resource_cache_id_fkey
                FOREIGN KEY (resource_cache_id) REFERENCES resource_caches (id) ON DELETE RESTRICT;

        ALTER TABLE volumes ADD COLUMN missing_reports integer NOT NULL DEFAULT 0;

        CREATE TABLE installation (
            one        boolean PRIMARY KEY DEFAULT true CHECK (one),
            id         uuid NOT NULL DEFAULT gen_random_uuid(),
            created_at timestamptz NOT NULL DEFAULT now()
        );
        INSERT INTO installation DEFAULT VALUES;

        ALTER TABLE workers
            ADD COLUMN hold text CHECK (hold IN ('identity', 'unknown')),
            ADD COLUMN hold_detail text,
            ADD COLUMN held_since timestamptz,
            ADD COLUMN held_unknown integer NOT NULL DEFAULT 0,
            ADD COLUMN adopt_identity boolean NOT NULL DEFAULT false,
            ADD COLUMN release_unknown boolean NOT NULL DEFAULT false;

        ALTER TABLE task_caches ADD CONSTRAINT task_caches_ttl_check CHECK (ttl >= interval '0');

        DROP INDEX volumes_orphan_candidates;
        CREATE INDEX volumes_orphan_candidates ON volumes (id)
            WHERE container_id IS NULL AND resource_cache_id IS NULL
              AND worker_base_resource_type_id IS NULL AND task_cache_id IS NULL
              AND state IN ('created', 'initialized');
        CREATE INDEX volumes_failed ON volumes (id) WHERE state = 'failed';
        """);

    public override void Down() => Execute.Sql(
        """
        DROP INDEX volumes_failed;
        DROP INDEX volumes_orphan_candidates;
        CREATE INDEX volumes_orphan_candidates ON volumes (id)
            WHERE container_id IS NULL AND resource_cache_id IS NULL
              AND worker_base_resource_type_id IS NULL AND task_cache_id IS NULL
              AND state IN ('created', 'initialized', 'failed');
        ALTER TABLE task_caches DROP CONSTRAINT task_caches_ttl_check;
        ALTER TABLE workers DROP COLUMN release_unknown, DROP COLUMN adopt_identity, DROP COLUMN held_unknown,
            DROP COLUMN held_since, DROP COLUMN hold_detail, DROP COLUMN hold;
        DROP TABLE installation;
        ALTER TABLE volumes DROP COLUMN missing_reports;
        ALTER TABLE image_resource_versions
            DROP CONSTRAINT image_resource_versions_resource_cache_id_fkey,
            ADD CONSTRAINT image_resource_versions_resource_cache_id_fkey
                FOREIGN KEY (resource_cache_id) REFERENCES resource_caches (id) ON DELETE CASCADE;
        ALTER TABLE next_build_inputs
            DROP CONSTRAINT next_build_inputs_resource_cache_id_fkey,
            ADD CONSTRAINT next_build_inputs_resource_cache_id_fkey
                FOREIGN KEY (resource_cache_id) REFERENCES resource_caches (id) ON DELETE CASCADE;
        """);
}
