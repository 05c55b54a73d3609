using FluentMigrator;

namespace Atc.Gc.Migrations.Migrations;

/// <summary>
/// The ownership graph: workers and their base resource types, resource configs and caches with
/// their uses, pipelines, jobs, builds, task caches, containers and volumes. Ownership is carried by
/// foreign keys so that deleting an owner row orphans (SET NULL) or protects (RESTRICT) what hangs
/// off it; the collector only ever has to look for rows whose owner columns are all NULL.
/// </summary>
[Migration(1, "Initial schema: ownership graph and volume lifecycle")]
public sealed class M001InitialSchema : Migration
{
    public override void Up() => Execute.Sql(
        """
        CREATE TYPE volume_state AS ENUM
            ('creating', 'created', 'initializing', 'initialized', 'destroying', 'failed');
        CREATE TYPE worker_state AS ENUM ('running', 'stalled', 'landing', 'landed', 'retiring');
        CREATE TYPE container_state AS ENUM ('creating', 'created', 'destroying', 'failed');
        CREATE TYPE build_status AS ENUM
            ('pending', 'started', 'succeeded', 'failed', 'errored', 'aborted');

        CREATE TABLE workers (
            name             text PRIMARY KEY
                             CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$'),
            state            worker_state NOT NULL DEFAULT 'running',
            base_url         text,
            heartbeat_at     timestamptz NOT NULL DEFAULT now(),
            registered_at    timestamptz NOT NULL DEFAULT now(),
            state_changed_at timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE base_resource_types (
            id   bigserial PRIMARY KEY,
            name text NOT NULL UNIQUE
        );

        -- Replaced (deleted and re-inserted) when a worker reports a new image or version, which
        -- orphans the volumes imported for the old one through volumes.worker_base_resource_type_id.
        CREATE TABLE worker_base_resource_types (
            id                    bigserial PRIMARY KEY,
            worker_name           text NOT NULL REFERENCES workers (name) ON DELETE CASCADE,
            base_resource_type_id bigint NOT NULL
                                  REFERENCES base_resource_types (id) ON DELETE RESTRICT,
            image                 text NOT NULL,
            version               text NOT NULL,
            UNIQUE (worker_name, base_resource_type_id)
        );
        CREATE INDEX worker_base_resource_types_base_resource_type_id
            ON worker_base_resource_types (base_resource_type_id);

        -- A resource config belongs either to a base resource type or, for custom resource types,
        -- to the resource cache holding the type's image: exactly one parent is set.
        CREATE TABLE resource_configs (
            id                    bigserial PRIMARY KEY,
            base_resource_type_id bigint REFERENCES base_resource_types (id) ON DELETE CASCADE,
            resource_cache_id     bigint,
            source_hash           text NOT NULL,
            created_at            timestamptz NOT NULL DEFAULT now(),
            last_referenced_at    timestamptz NOT NULL DEFAULT now(),
            CHECK (num_nonnulls(base_resource_type_id, resource_cache_id) = 1)
        );
        CREATE UNIQUE INDEX resource_configs_base_resource_type_source
            ON resource_configs (base_resource_type_id, source_hash)
            WHERE base_resource_type_id IS NOT NULL;
        CREATE UNIQUE INDEX resource_configs_resource_cache_source
            ON resource_configs (resource_cache_id, source_hash)
            WHERE resource_cache_id IS NOT NULL;

        CREATE TABLE resource_caches (
            id                 bigserial PRIMARY KEY,
            resource_config_id bigint NOT NULL REFERENCES resource_configs (id) ON DELETE RESTRICT,
            version            jsonb NOT NULL,
            version_digest     text NOT NULL,
            params_hash        text NOT NULL,
            created_at         timestamptz NOT NULL DEFAULT now(),
            UNIQUE (resource_config_id, version_digest, params_hash)
        );
        ALTER TABLE resource_configs
            ADD CONSTRAINT resource_configs_resource_cache_id_fkey
            FOREIGN KEY (resource_cache_id) REFERENCES resource_caches (id) ON DELETE RESTRICT;

        CREATE TABLE pipelines (
            id         bigserial PRIMARY KEY,
            name       text NOT NULL UNIQUE,
            paused     boolean NOT NULL DEFAULT false,
            archived   boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE jobs (
            id          bigserial PRIMARY KEY,
            pipeline_id bigint NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
            name        text NOT NULL,
            paused      boolean NOT NULL DEFAULT false,
            -- false once the job is removed from its pipeline's configuration
            active      boolean NOT NULL DEFAULT true,
            UNIQUE (pipeline_id, name)
        );

        CREATE TABLE builds (
            id          bigserial PRIMARY KEY,
            job_id      bigint REFERENCES jobs (id) ON DELETE CASCADE,  -- NULL: a one-off build
            name        text NOT NULL,
            status      build_status NOT NULL DEFAULT 'pending',
            completed   boolean NOT NULL
                        GENERATED ALWAYS AS (status IN ('succeeded', 'failed', 'errored', 'aborted')) STORED,
            created_at  timestamptz NOT NULL DEFAULT now(),
            started_at  timestamptz,
            ended_at    timestamptz
        );
        CREATE INDEX builds_job_id ON builds (job_id, id) WHERE job_id IS NOT NULL;
        CREATE INDEX builds_running ON builds (id) WHERE NOT completed;

        CREATE TABLE resources (
            id                 bigserial PRIMARY KEY,
            pipeline_id        bigint NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
            name               text NOT NULL,
            active             boolean NOT NULL DEFAULT true,
            resource_config_id bigint REFERENCES resource_configs (id) ON DELETE SET NULL,
            UNIQUE (pipeline_id, name)
        );
        CREATE INDEX resources_resource_config_id
            ON resources (resource_config_id) WHERE resource_config_id IS NOT NULL;

        CREATE TABLE resource_types (
            id                 bigserial PRIMARY KEY,
            pipeline_id        bigint NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
            name               text NOT NULL,
            active             boolean NOT NULL DEFAULT true,
            resource_config_id bigint REFERENCES resource_configs (id) ON DELETE SET NULL,
            UNIQUE (pipeline_id, name)
        );
        CREATE INDEX resource_types_resource_config_id
            ON resource_types (resource_config_id) WHERE resource_config_id IS NOT NULL;

        -- A cache cannot be deleted while a use holds it (RESTRICT). A use is held by a build, or on
        -- behalf of a resource or resource type (their checks and custom type images).
        CREATE TABLE resource_cache_uses (
            id                bigserial PRIMARY KEY,
            resource_cache_id bigint NOT NULL REFERENCES resource_caches (id) ON DELETE RESTRICT,
            build_id          bigint REFERENCES builds (id) ON DELETE CASCADE,
            resource_id       bigint REFERENCES resources (id) ON DELETE CASCADE,
            resource_type_id  bigint REFERENCES resource_types (id) ON DELETE CASCADE,
            created_at        timestamptz NOT NULL DEFAULT now(),
            CHECK (num_nonnulls(build_id, resource_id, resource_type_id) >= 1)
        );
        CREATE INDEX resource_cache_uses_resource_cache_id ON resource_cache_uses (resource_cache_id);
        CREATE INDEX resource_cache_uses_build_id
            ON resource_cache_uses (build_id) WHERE build_id IS NOT NULL;
        CREATE INDEX resource_cache_uses_resource_id
            ON resource_cache_uses (resource_id) WHERE resource_id IS NOT NULL;
        CREATE INDEX resource_cache_uses_resource_type_id
            ON resource_cache_uses (resource_type_id) WHERE resource_type_id IS NOT NULL;

        -- The versions the next build of a job will fetch: kept while the pipeline is unpaused.
        CREATE TABLE next_build_inputs (
            job_id            bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
            input_name        text NOT NULL,
            resource_cache_id bigint NOT NULL REFERENCES resource_caches (id) ON DELETE CASCADE,
            PRIMARY KEY (job_id, input_name)
        );
        CREATE INDEX next_build_inputs_resource_cache_id ON next_build_inputs (resource_cache_id);

        -- The cache holding a build's image: kept while the build runs.
        CREATE TABLE image_resource_versions (
            build_id          bigint PRIMARY KEY REFERENCES builds (id) ON DELETE CASCADE,
            resource_cache_id bigint NOT NULL REFERENCES resource_caches (id) ON DELETE CASCADE
        );
        CREATE INDEX image_resource_versions_resource_cache_id
            ON image_resource_versions (resource_cache_id);

        CREATE TABLE task_caches (
            id        bigserial PRIMARY KEY,
            job_id    bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
            step_name text NOT NULL,
            path      text NOT NULL,
            last_used timestamptz NOT NULL DEFAULT now(),
            ttl       interval NOT NULL DEFAULT interval '7 days',
            UNIQUE (job_id, step_name, path)
        );

        CREATE TABLE containers (
            id                 bigserial PRIMARY KEY,
            handle             text NOT NULL UNIQUE CHECK (handle ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'),
            worker_name        text NOT NULL REFERENCES workers (name) ON DELETE CASCADE,
            state              container_state NOT NULL DEFAULT 'creating',
            build_id           bigint REFERENCES builds (id) ON DELETE SET NULL,
            resource_config_id bigint REFERENCES resource_configs (id) ON DELETE SET NULL,
            created_at         timestamptz NOT NULL DEFAULT now(),
            state_changed_at   timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX containers_worker_name ON containers (worker_name);
        CREATE INDEX containers_build_id ON containers (build_id) WHERE build_id IS NOT NULL;
        CREATE INDEX containers_resource_config_id
            ON containers (resource_config_id) WHERE resource_config_id IS NOT NULL;

        -- Volumes. Owner columns are SET NULL when the owner row goes; a volume whose owner columns
        -- are all NULL and which has no children is an orphan. A copy-on-write child references
        -- (parent_id, parent_state) = (id, 'initialized') of its parent, so the child can only be
        -- inserted while the parent is initialized, and the parent's state cannot change (to
        -- destroying) while a child references it. ON DELETE RESTRICT is enough: a parent deleted in
        -- the same statement as its children (a worker prune, a missing subtree) passes the check,
        -- which runs at the end of the statement; a parent deleted alone while a child exists fails.
        CREATE TABLE volumes (
            id                           bigserial PRIMARY KEY,
            handle                       text NOT NULL UNIQUE
                                         CHECK (handle ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'),
            worker_name                  text NOT NULL REFERENCES workers (name) ON DELETE CASCADE,
            state                        volume_state NOT NULL DEFAULT 'creating',
            container_id                 bigint REFERENCES containers (id) ON DELETE SET NULL,
            resource_cache_id            bigint REFERENCES resource_caches (id) ON DELETE SET NULL,
            worker_base_resource_type_id bigint
                                         REFERENCES worker_base_resource_types (id) ON DELETE SET NULL,
            task_cache_id                bigint REFERENCES task_caches (id) ON DELETE SET NULL,
            parent_id                    bigint,
            parent_state                 volume_state,
            missing_since                timestamptz,
            created_at                   timestamptz NOT NULL DEFAULT now(),
            state_changed_at             timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT volumes_id_state_key UNIQUE (id, state),
            CONSTRAINT volumes_parent_fkey FOREIGN KEY (parent_id, parent_state)
                REFERENCES volumes (id, state) ON DELETE RESTRICT,
            CONSTRAINT volumes_parent_pair_check CHECK ((parent_id IS NULL) = (parent_state IS NULL)),
            CONSTRAINT volumes_parent_ready_check CHECK (parent_state IS NULL OR parent_state = 'initialized')
        );

        -- Index design. The collector's hot queries look at small slices of a large table, so most
        -- indexes are partial; the owner indexes skip NULLs and serve the ON DELETE SET NULL actions
        -- (UPDATE volumes SET container_id = NULL WHERE container_id = $1) and ownership look-ups.
        CREATE INDEX volumes_worker_name ON volumes (worker_name);
        CREATE INDEX volumes_container_id ON volumes (container_id) WHERE container_id IS NOT NULL;
        CREATE INDEX volumes_resource_cache_id
            ON volumes (resource_cache_id) WHERE resource_cache_id IS NOT NULL;
        CREATE INDEX volumes_worker_base_resource_type_id
            ON volumes (worker_base_resource_type_id) WHERE worker_base_resource_type_id IS NOT NULL;
        CREATE INDEX volumes_task_cache_id ON volumes (task_cache_id) WHERE task_cache_id IS NOT NULL;
        -- children of a volume: the "no child" guard and the RESTRICT check on delete
        CREATE INDEX volumes_parent_id ON volumes (parent_id) WHERE parent_id IS NOT NULL;
        -- orphan candidates: the from-states and owner guard of the lifecycle's destroy transition
        CREATE INDEX volumes_orphan_candidates ON volumes (id)
            WHERE container_id IS NULL AND resource_cache_id IS NULL
              AND worker_base_resource_type_id IS NULL AND task_cache_id IS NULL
              AND state IN ('created', 'initialized', 'failed');
        -- volumes being deleted from their workers
        CREATE INDEX volumes_destroying ON volumes (worker_name, id) WHERE state = 'destroying';
        -- volumes stuck while being set up (timeouts to failed)
        CREATE INDEX volumes_in_setup ON volumes (state_changed_at)
            WHERE state IN ('creating', 'initializing');
        -- volumes a worker stopped reporting
        CREATE INDEX volumes_missing ON volumes (missing_since) WHERE missing_since IS NOT NULL;
        """);

    public override void Down() => Execute.Sql(
        """
        DROP TABLE volumes, containers, task_caches, image_resource_versions, next_build_inputs,
            resource_cache_uses, resource_types, resources, builds, jobs, pipelines;
        ALTER TABLE resource_configs DROP CONSTRAINT resource_configs_resource_cache_id_fkey;
        DROP TABLE resource_caches, resource_configs, worker_base_resource_types,
            base_resource_types, workers;
        DROP TYPE build_status, container_state, worker_state, volume_state;
        """);
}
