using Atc.Gc.Collection.DiskPressure;
using Atc.Gc.Database;
using Dapper;
using Microsoft.Extensions.Logging;

namespace Atc.Gc.Collection.Collectors;

/// <summary>
/// Evicts kept caches nobody uses from workers whose disks are under pressure (see
/// <see cref="DiskPressureOptions"/>): for every worker above its high watermark, short of its reserve
/// or over its kept-cache limit, the least recently used evictable volumes lose their cache owner
/// until the worker's projected usage is at its low watermark — and the orphaned-volumes collector,
/// later in the same pass, destroys them through the lifecycle like any other orphan.
/// <para>
/// Lock, then decide, in one transaction: the first statement picks the volumes and locks them
/// (<c>FOR UPDATE SKIP LOCKED</c>), the second locks their resource caches the same way, and the
/// third decides again, with a snapshot taken after the locks, and applies. A scheduler's use takes
/// one of those locks — a copy-on-write child and a cache hand-out lock the volume row, a cache use
/// or a build's image locks the cache row (their foreign keys) — so a use committed before the locks
/// is seen and keeps the volume, and a use in flight makes the volume skipped. A use attempted after
/// the locks waits for the pass: a hand-out then finds the volume is no longer the cache's
/// (<c>CacheVolumeUseOutcome.Released</c>: the scheduler makes a new one); a child is made and keeps
/// its parent on disk for as long as it lives (the <c>childless</c> guard), or, when the orphan
/// collector took the parent first, is refused (<c>ParentNotReady</c>, the parent foreign key).
/// </para>
/// </summary>
public sealed class DiskPressureCollector(CollectorMetrics metrics, IDiskPressurePause pause, ILogger<DiskPressureCollector> logger) : ICollector
{
    public string Name => "disk-pressure";

    private static readonly string LockPicked =
        DiskPressurePlan.Cte("TRUE") +
        """
        , locked AS (
            SELECT v.id, v.resource_cache_id FROM volumes v
            WHERE v.id IN (SELECT id FROM picked)
            ORDER BY v.id
            FOR UPDATE SKIP LOCKED
        )
        SELECT (SELECT count(*) FROM need WHERE need_bytes > 0) AS pressured,
               (SELECT count(*) FROM picked) AS picked,
               array(SELECT id FROM locked ORDER BY id) AS ids,
               array(SELECT DISTINCT resource_cache_id FROM locked WHERE resource_cache_id IS NOT NULL) AS cache_ids
        """;

    private const string LockCaches =
        "SELECT id FROM resource_caches WHERE id = ANY(@cacheIds) ORDER BY id FOR UPDATE SKIP LOCKED";

    private static readonly string Evict =
        DiskPressurePlan.Cte("v.id = ANY(@ids) AND (v.resource_cache_id IS NULL OR v.resource_cache_id = ANY(@lockedCacheIds))") +
        """
        , evicted AS (
            UPDATE volumes v SET resource_cache_id = NULL, task_cache_id = NULL
            FROM picked p
            WHERE v.id = p.id
            RETURNING p.id, p.handle, p.worker_name, p.size_bytes, p.resource_cache_id, p.task_cache_id, p.last_used_at, p.reason
        )
        SELECT * FROM evicted ORDER BY worker_name, last_used_at, id
        """;

    public async Task CollectAsync(CollectionPass pass, CollectorTally tally, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pass);
        ArgumentNullException.ThrowIfNull(tally);
        var options = pass.Options.DiskPressure;
        if (!options.Enabled)
        {
            return;
        }

        await using var db = await pass.ConnectAsync(cancellationToken);
        var parameters = DiskPressurePlan.Parameters(options, worker: null, everyWorker: false);
        var (locked, evictions) = await db.InTransactionAsync(async () =>
        {
            var locked = await db.Connection.QuerySingleAsync<LockedRow>(Sql.Command(LockPicked, parameters, cancellationToken));
            if (locked.Ids.Length == 0)
            {
                return (locked, Array.Empty<Eviction>());
            }

            var caches = (await db.Connection.QueryAsync<long>(Sql.Command(LockCaches, new { cacheIds = locked.CacheIds }, cancellationToken))).ToArray();
            await pause.LockedAsync(cancellationToken);
            parameters.Add("ids", locked.Ids);
            parameters.Add("lockedCacheIds", caches);
            return (locked, (await db.Connection.QueryAsync<Eviction>(Sql.Command(Evict, parameters, cancellationToken))).ToArray());
        }, cancellationToken);

        tally.AddExamined(locked.Picked);
        tally.AddChanged(evictions.Length);
        tally.Add("workers-under-pressure", locked.Pressured);
        tally.Add("evicted-bytes", evictions.Sum(e => e.SizeBytes));
        foreach (var eviction in evictions)
        {
            tally.Add(eviction.Reason, 1);
            logger.Log(
                pass.DryRun ? LogLevel.Debug : LogLevel.Information,
                "{DryRun}Evicting volume {Handle} ({Cache}, {Bytes} bytes, last used {LastUsedAt:O}) from worker {Worker}: {Reason}",
                pass.DryRun ? "(dry run) " : string.Empty,
                eviction.Handle,
                eviction.Cache,
                eviction.SizeBytes,
                eviction.LastUsedAt,
                eviction.WorkerName,
                eviction.Reason);
        }

        if (!pass.DryRun)
        {
            metrics.DiskPressure(locked.Pressured, evictions);
        }
    }

    private sealed class LockedRow
    {
        public long Pressured { get; init; }

        public long Picked { get; init; }

        public long[] Ids { get; init; } = [];

        public long[] CacheIds { get; init; } = [];
    }
}
