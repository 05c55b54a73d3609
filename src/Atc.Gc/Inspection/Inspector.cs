using Atc.Gc.Database;
using Atc.Gc.Lifecycle;
using Dapper;
using Npgsql;

namespace Atc.Gc.Inspection;

/// <summary>Read-only views of the system for operators: volumes, containers, workers, caches, and why a volume is alive.</summary>
public sealed class Inspector(NpgsqlDataSource dataSource)
{
    /// <summary>Volumes, newest first, optionally of one worker, in one state, or orphaned only.</summary>
    public async Task<Page<VolumeListing>> VolumesAsync(
        string? worker = null, VolumeState? state = null, bool orphanedOnly = false, int limit = 100, CancellationToken cancellationToken = default)
    {
        var parameters = new { worker, state = state?.ToDb(), orphanedOnly, limit = limit <= 0 ? int.MaxValue : limit };
        var filter =
            $"""
            WHERE (@worker::text IS NULL OR v.worker_name = @worker)
              AND (@state::text IS NULL OR v.state = @state::volume_state)
              AND (NOT @orphanedOnly OR ({VolumeGuard.OrphanSql("v")}))
            """;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var total = await connection.ExecuteScalarAsync<long>(Sql.Command($"SELECT count(*) FROM volumes v {filter}", parameters, cancellationToken));
        var rows = await connection.QueryAsync<VolumeListing>(Sql.Command(
            $"""
            SELECT {VolumeColumns}
            FROM volumes v {filter}
            ORDER BY v.id DESC
            LIMIT @limit
            """, parameters, cancellationToken));
        return new Page<VolumeListing>(rows.AsList(), total);
    }

    public async Task<VolumeListing?> VolumeAsync(string handle, CancellationToken cancellationToken = default) =>
        await dataSource.QuerySingleOrDefaultAsync<VolumeListing>(
            $"SELECT {VolumeColumns} FROM volumes v WHERE v.handle = @handle", new { handle }, cancellationToken);

    public Task<IReadOnlyList<ContainerListing>> ContainersAsync(string? worker = null, CancellationToken cancellationToken = default) =>
        dataSource.QueryAsync<ContainerListing>(
            """
            SELECT c.id, c.handle, c.worker_name AS worker, c.state::text AS state, c.build_id, b.status::text AS build_status,
                   CASE WHEN j.id IS NULL THEN NULL ELSE p.name || '/' || j.name END AS job, c.resource_config_id,
                   (SELECT count(*) FROM volumes v WHERE v.container_id = c.id) AS volumes
            FROM containers c
            LEFT JOIN builds b ON b.id = c.build_id
            LEFT JOIN jobs j ON j.id = b.job_id
            LEFT JOIN pipelines p ON p.id = j.pipeline_id
            WHERE @worker::text IS NULL OR c.worker_name = @worker
            ORDER BY c.id
            """, new { worker }, cancellationToken);

    public Task<IReadOnlyList<WorkerListing>> WorkersAsync(CancellationToken cancellationToken = default) =>
        dataSource.QueryAsync<WorkerListing>(
            $"""
            SELECT w.name, w.state::text AS state, w.base_url, w.heartbeat_at,
                   (SELECT count(*) FROM containers c WHERE c.worker_name = w.name) AS containers,
                   count(v.id) AS volumes,
                   {VolumesPerState},
                   CASE WHEN w.hold IS NULL THEN NULL ELSE w.hold || ': ' || w.hold_detail END AS hold,
                   w.disk_capacity_bytes, w.disk_free_bytes, w.disk_volumes_bytes
            FROM workers w
            LEFT JOIN volumes v ON v.worker_name = w.name
            GROUP BY w.name
            ORDER BY w.name
            """, null, cancellationToken);

    public Task<IReadOnlyList<CacheListing>> CachesAsync(string? pipeline = null, CancellationToken cancellationToken = default) =>
        dataSource.QueryAsync<CacheListing>(
            """
            SELECT c.id, c.resource_config_id,
                   coalesce(bt.name, 'custom (cache ' || rc.resource_cache_id || ')') AS type,
                   c.version::text AS version,
                   (SELECT string_agg(p.name || '/' || r.name, ', ' ORDER BY p.name, r.name)
                    FROM resources r JOIN pipelines p ON p.id = r.pipeline_id WHERE r.resource_config_id = rc.id) AS resources,
                   (SELECT count(*) FROM resource_cache_uses u WHERE u.resource_cache_id = c.id) AS uses,
                   (SELECT count(*) FROM resource_cache_uses u JOIN builds b ON b.id = u.build_id
                    WHERE u.resource_cache_id = c.id AND NOT b.completed) AS running_uses,
                   (SELECT count(*) FROM volumes v WHERE v.resource_cache_id = c.id) AS volumes,
                   c.created_at
            FROM resource_caches c
            JOIN resource_configs rc ON rc.id = c.resource_config_id
            LEFT JOIN base_resource_types bt ON bt.id = rc.base_resource_type_id
            WHERE @pipeline::text IS NULL OR EXISTS (
                SELECT 1 FROM resources r JOIN pipelines p ON p.id = r.pipeline_id
                WHERE r.resource_config_id = rc.id AND p.name = @pipeline)
            ORDER BY c.id
            """, new { pipeline }, cancellationToken);

    /// <summary>The facts behind a volume: its owners, traced to builds, jobs and uses; its worker; its family.</summary>
    public async Task<VolumeFactsReport?> FactsAsync(string handle, CancellationToken cancellationToken = default)
    {
        var volume = await VolumeAsync(handle, cancellationToken);
        if (volume is null)
        {
            return null;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var lines = (await connection.QueryAsync<string>(Sql.Command(OwnerLines, new { volume.Id }, cancellationToken))).AsList();
        var family = await connection.QuerySingleAsync<FamilyRow>(Sql.Command(
            """
            SELECT (SELECT p.handle || ' (' || p.state::text || ')' FROM volumes p WHERE p.id = v.parent_id) AS parent,
                   (SELECT string_agg(c.handle || ' (' || c.state::text || ')', ', ' ORDER BY c.id) FROM volumes c WHERE c.parent_id = v.id) AS children,
                   w.state::text AS worker_state, w.heartbeat_at AS worker_heartbeat
            FROM volumes v JOIN workers w ON w.name = v.worker_name
            WHERE v.id = @Id
            """, new { volume.Id }, cancellationToken));
        return new VolumeFactsReport(volume, lines, family.Parent, family.Children, family.WorkerState, family.WorkerHeartbeat);
    }

    /// <summary>One count per volume state, named by its label (<see cref="WorkerListing"/> has a column for each).</summary>
    private static readonly string VolumesPerState = string.Join(
        ",\n       ", VolumeStates.Labels.Labels.Select(label => $"count(v.id) FILTER (WHERE v.state = '{label}') AS {label}"));

    private const string VolumeColumns =
        """
        v.id, v.handle, v.worker_name AS worker, v.state::text AS state, v.container_id, v.resource_cache_id,
        v.worker_base_resource_type_id, v.task_cache_id, v.parent_id,
        (SELECT count(*) FROM volumes c WHERE c.parent_id = v.id) AS children,
        v.created_at, v.state_changed_at, v.missing_since, v.delete_attempts, v.last_delete_error, v.size_bytes
        """;

    /// <summary>One line per owner, traced as far as it goes (container → build → job; cache → uses → builds; ...).</summary>
    private const string OwnerLines =
        """
        SELECT format('container %s (%s) of %s', c.handle, c.state,
               CASE WHEN b.id IS NULL AND c.resource_config_id IS NOT NULL THEN format('checking resource config %s', c.resource_config_id)
                    WHEN b.id IS NULL THEN 'no build (released)'
                    ELSE format('build %s%s, %s%s', b.id,
                                CASE WHEN j.id IS NULL THEN ' (one-off)' ELSE format(' of job %s/%s', p.name, j.name) END,
                                b.status, CASE WHEN b.released_at IS NOT NULL THEN ', released' ELSE '' END) END)
        FROM volumes v JOIN containers c ON c.id = v.container_id
        LEFT JOIN builds b ON b.id = c.build_id LEFT JOIN jobs j ON j.id = b.job_id LEFT JOIN pipelines p ON p.id = j.pipeline_id
        WHERE v.id = @Id
        UNION ALL
        SELECT format('resource cache %s (version %s) of %s; %s', rc.id, rc.version::text, coalesce(bt.name, 'a custom type'),
               coalesce((SELECT string_agg(CASE WHEN u.build_id IS NOT NULL THEN format('used by build %s (%s)', b.id, b.status)
                                               WHEN u.resource_id IS NOT NULL THEN format('used by resource %s', u.resource_id)
                                               ELSE format('used by resource type %s', u.resource_type_id) END, ', ' ORDER BY u.id)
                         FROM resource_cache_uses u LEFT JOIN builds b ON b.id = u.build_id WHERE u.resource_cache_id = rc.id), 'no uses')
               || coalesce((SELECT '; next input of ' || string_agg(format('%s/%s', p.name, j.name), ', ')
                            FROM next_build_inputs n JOIN jobs j ON j.id = n.job_id JOIN pipelines p ON p.id = j.pipeline_id
                            WHERE n.resource_cache_id = rc.id), ''))
        FROM volumes v JOIN resource_caches rc ON rc.id = v.resource_cache_id
        JOIN resource_configs cfg ON cfg.id = rc.resource_config_id LEFT JOIN base_resource_types bt ON bt.id = cfg.base_resource_type_id
        WHERE v.id = @Id
        UNION ALL
        SELECT format('task cache of %s/%s step %s path %s, last used %s, time to live %s', p.name, j.name, t.step_name, t.path,
                      to_char(t.last_used AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS"Z"'), t.ttl)
        FROM volumes v JOIN task_caches t ON t.id = v.task_cache_id JOIN jobs j ON j.id = t.job_id JOIN pipelines p ON p.id = j.pipeline_id
        WHERE v.id = @Id
        UNION ALL
        SELECT format('base resource type %s %s (%s) of worker %s', bt.name, w.version, w.image, w.worker_name)
        FROM volumes v JOIN worker_base_resource_types w ON w.id = v.worker_base_resource_type_id
        JOIN base_resource_types bt ON bt.id = w.base_resource_type_id
        WHERE v.id = @Id
        """;

    private sealed class FamilyRow
    {
        public string? Parent { get; init; }

        public string? Children { get; init; }

        public string WorkerState { get; init; } = string.Empty;

        public DateTimeOffset WorkerHeartbeat { get; init; }
    }
}

/// <summary>What <see cref="Inspector.FactsAsync"/> found about one volume.</summary>
public sealed record VolumeFactsReport(
    VolumeListing Volume, IReadOnlyList<string> Owners, string? Parent, string? Children, string WorkerState, DateTimeOffset WorkerHeartbeat);
