using Atc.Gc.Lifecycle;
using Atc.Gc.Model;
using Dapper;

namespace Atc.Gc.Collection.DiskPressure;

/// <summary>
/// The eviction decision as SQL, shared by the collector (which locks, then decides again and
/// applies) and by <c>atc-gc disk</c> (which only reads). <see cref="Cte"/> defines, per worker, its
/// limits (<c>policy</c>), what its volumes take (<c>sized</c>), its projected usage and how many bytes
/// must go and why (<c>need</c>), and the volumes to evict, least recently used first (<c>picked</c>).
/// </summary>
internal static class DiskPressurePlan
{
    /// <summary>Evictions by reason, as they appear in logs, metrics and <c>atc-gc disk</c>.</summary>
    public const string HighWatermark = "high-watermark";

    public const string ReservedFree = "reserved-free";

    public const string KeptCacheLimit = "kept-cache-limit";

    /// <summary>
    /// The volume <c>v</c> is kept only for reuse and nothing uses it: a ready, reported, measured
    /// volume of a resource cache or task cache, not owned by a container or a base resource type,
    /// with no copy-on-write child, whose resource cache no running or pending build uses or runs on
    /// as its image. (Any child keeps its parent: the children are evicted, or released, first.)
    /// </summary>
    public static readonly string Evictable =
        $"""
        v.state = '{VolumeState.Initialized.ToDb()}' AND v.missing_since IS NULL AND v.size_bytes > 0
        AND v.container_id IS NULL AND v.worker_base_resource_type_id IS NULL
        AND (v.resource_cache_id IS NOT NULL OR v.task_cache_id IS NOT NULL)
        AND {VolumeGuard.Childless.Sql("v")}
        AND NOT EXISTS (SELECT 1 FROM resource_cache_uses u JOIN builds b ON b.id = u.build_id
                        WHERE u.resource_cache_id = v.resource_cache_id AND NOT b.completed)
        AND NOT EXISTS (SELECT 1 FROM image_resource_versions i JOIN builds b ON b.id = i.build_id
                        WHERE i.resource_cache_id = v.resource_cache_id AND NOT b.completed)
        """;

    /// <summary>The volume <c>v</c> is on its way off the disk: destroying, failed, or an orphan the pass destroys.</summary>
    private static readonly string Releasing =
        $"""
        (v.state IN ('{VolumeState.Destroying.ToDb()}', '{VolumeState.Failed.ToDb()}')
         OR (v.state IN ('{VolumeState.Created.ToDb()}', '{VolumeState.Initialized.ToDb()}')
             AND {VolumeGuard.Unowned.Sql("v")} AND {VolumeGuard.Childless.Sql("v")}))
        """;

    /// <summary>
    /// The plan's CTEs (<c>WITH ...</c>, to be followed by a statement over them). Only volumes
    /// satisfying <paramref name="candidates"/> (a predicate on <c>v</c>) are picked. With
    /// <c>@everyWorker</c> false only workers that may be under pressure are measured.
    /// <para>
    /// Projected usage is the smaller of what the worker last reported less what is on its way off the
    /// disk, and what is not its volumes (from the same report) plus the measured sizes of its live
    /// volume rows — so a deletion confirmed since the last heartbeat is not counted twice, and an
    /// unmeasured volume never makes eviction take more.
    /// </para>
    /// <para>
    /// <c>need</c> is materialized: one aggregate per worker, computed once, never once per candidate
    /// (the planner, expecting few candidates, would otherwise nest the aggregate inside their loop).
    /// </para>
    /// </summary>
    public static string Cte(string candidates) =>
        $"""
        WITH policy AS (
            SELECT w.name AS worker, w.disk_capacity_bytes AS capacity, w.disk_free_bytes AS free,
                   coalesce(w.disk_volumes_bytes, 0) AS volumes_bytes,
                   coalesce(o.high, @high) AS high, coalesce(o.low, @low) AS low,
                   coalesce(o.reserved, @reserved) AS reserved, coalesce(o.max_kept, @maxKept) AS max_kept
            FROM workers w
            LEFT JOIN unnest(@overrideWorkers::text[], @overrideHigh::int[], @overrideLow::int[],
                             @overrideReserved::bigint[], @overrideMaxKept::bigint[])
                      AS o(worker, high, low, reserved, max_kept) ON o.worker = w.name
            WHERE {WorkerStates.CollectableSql("w")} AND w.disk_capacity_bytes > 0 AND w.disk_free_bytes IS NOT NULL
              AND (@worker::text IS NULL OR w.name = @worker)
        ), sized AS (
            SELECT p.*, s.releasing_bytes, s.live_bytes, s.evictable_bytes
            FROM policy p
            CROSS JOIN LATERAL (
                SELECT coalesce(sum(v.size_bytes) FILTER (WHERE {Releasing}), 0) AS releasing_bytes,
                       coalesce(sum(v.size_bytes) FILTER (WHERE NOT {Releasing}), 0) AS live_bytes,
                       -- only a kept-cache limit and atc-gc disk need it: the collector's default skips the predicate
                       coalesce(sum(v.size_bytes) FILTER (WHERE (@everyWorker OR p.max_kept > 0) AND {Evictable}), 0) AS evictable_bytes
                FROM volumes v WHERE v.worker_name = p.worker) s
            WHERE @everyWorker OR (p.capacity - p.free) * 100 >= p.capacity * p.high OR p.free < p.reserved OR p.max_kept > 0
        ), projected AS (
            SELECT s.*, greatest(least(s.capacity - s.free - s.releasing_bytes,
                                       greatest(s.capacity - s.free - s.volumes_bytes, 0) + s.live_bytes), 0) AS used
            FROM sized s
        ), need AS MATERIALIZED (
            SELECT p.*, greatest(space_need, cache_need) AS need_bytes,
                   CASE WHEN space_need = 0 AND cache_need = 0 THEN NULL
                        WHEN space_need >= cache_need AND p.used * 100 >= p.capacity * p.high THEN '{HighWatermark}'
                        WHEN space_need >= cache_need THEN '{ReservedFree}'
                        ELSE '{KeptCacheLimit}' END AS reason
            FROM projected p
            CROSS JOIN LATERAL (
                SELECT CASE WHEN p.used * 100 >= p.capacity * p.high OR p.capacity - p.used < p.reserved
                            THEN greatest(p.used - least(p.capacity * p.low / 100, p.capacity - p.reserved), 0) ELSE 0 END AS space_need,
                       CASE WHEN p.max_kept > 0 AND p.evictable_bytes > p.max_kept
                            THEN p.evictable_bytes - p.max_kept ELSE 0 END AS cache_need) n
        ), ranked AS (
            SELECT v.id, v.handle, v.worker_name, v.size_bytes, v.resource_cache_id, v.task_cache_id,
                   coalesce(v.last_used_at, v.state_changed_at) AS last_used_at, n.reason, n.need_bytes,
                   sum(v.size_bytes) OVER (PARTITION BY v.worker_name
                                           ORDER BY coalesce(v.last_used_at, v.state_changed_at), v.id) AS running_bytes
            FROM need n
            JOIN volumes v ON v.worker_name = n.worker
            WHERE n.need_bytes > 0 AND {Evictable} AND {candidates}
        ), picked AS (
            SELECT * FROM ranked WHERE running_bytes - size_bytes < need_bytes
        )
        """;

    /// <summary>The plan's parameters: the limits (defaults and per-worker overrides), one worker or all, and whether every worker is measured.</summary>
    public static DynamicParameters Parameters(DiskPressureOptions options, string? worker, bool everyWorker)
    {
        ArgumentNullException.ThrowIfNull(options);
        var defaults = options.For(string.Empty);
        var overrides = options.Workers.Keys.Select(name => (Name: name, Policy: options.For(name))).ToArray();
        var parameters = new DynamicParameters();
        parameters.Add("high", defaults.HighWatermarkPercent);
        parameters.Add("low", defaults.LowWatermarkPercent);
        parameters.Add("reserved", defaults.ReservedFreeBytes);
        parameters.Add("maxKept", defaults.MaxKeptCacheBytes);
        parameters.Add("overrideWorkers", overrides.Select(o => o.Name).ToArray());
        parameters.Add("overrideHigh", overrides.Select(o => o.Policy.HighWatermarkPercent).ToArray());
        parameters.Add("overrideLow", overrides.Select(o => o.Policy.LowWatermarkPercent).ToArray());
        parameters.Add("overrideReserved", overrides.Select(o => o.Policy.ReservedFreeBytes).ToArray());
        parameters.Add("overrideMaxKept", overrides.Select(o => o.Policy.MaxKeptCacheBytes).ToArray());
        parameters.Add("worker", worker);
        parameters.Add("everyWorker", everyWorker);
        return parameters;
    }
}
