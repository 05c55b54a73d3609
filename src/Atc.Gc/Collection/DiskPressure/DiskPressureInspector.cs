using System.Data;
using Atc.Gc.Database;
using Dapper;
using Npgsql;

namespace Atc.Gc.Collection.DiskPressure;

/// <summary>One worker's disk as disk-pressure eviction sees it, and what the next pass would evict from it.</summary>
/// <param name="UsedBytes">Projected usage: what the worker reported, less what is already on its way off its disk (see <see cref="DiskPressurePlan"/>).</param>
/// <param name="EvictableBytes">Kept caches nobody uses: what eviction may take.</param>
/// <param name="InUseBytes">Its other volumes: in use, or kept by something eviction never touches.</param>
/// <param name="ReleasingBytes">Volumes already destroying, failed or orphaned.</param>
/// <param name="NeedBytes">What must go for the worker to be within its limits (0 when it is).</param>
/// <param name="Reason">Why (<c>high-watermark</c>, <c>reserved-free</c>, <c>kept-cache-limit</c>), or null.</param>
public sealed record WorkerDiskPressure(
    string Worker,
    long CapacityBytes,
    long UsedBytes,
    long EvictableBytes,
    long InUseBytes,
    long ReleasingBytes,
    DiskPressurePolicy Policy,
    long NeedBytes,
    string? Reason,
    IReadOnlyList<Eviction> WouldEvict)
{
    public double UsedPercent => CapacityBytes == 0 ? 0 : 100.0 * UsedBytes / CapacityBytes;
}

/// <summary>
/// <c>atc-gc disk</c>: the disk-pressure collector's decision as a dry run — the same statement, read
/// in one snapshot, locking and changing nothing.
/// </summary>
public sealed class DiskPressureInspector(NpgsqlDataSource dataSource)
{
    private static readonly string Workers =
        DiskPressurePlan.Cte("TRUE") +
        """
        SELECT worker, capacity, used, evictable_bytes, live_bytes, releasing_bytes,
               high, low, reserved, max_kept, need_bytes, reason
        FROM need ORDER BY worker
        """;

    private static readonly string Picked =
        DiskPressurePlan.Cte("TRUE") +
        """
        SELECT id, handle, worker_name, size_bytes, resource_cache_id, task_cache_id, last_used_at, reason
        FROM picked ORDER BY worker_name, last_used_at, id
        """;

    /// <summary>Every collected worker that reports its disk (or only <paramref name="worker"/>).</summary>
    public async Task<IReadOnlyList<WorkerDiskPressure>> InspectAsync(DiskPressureOptions options, string? worker = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var parameters = DiskPressurePlan.Parameters(options, worker, everyWorker: true);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        var workers = (await connection.QueryAsync<WorkerRow>(Sql.Command(Workers, parameters, cancellationToken))).ToList();
        var picked = options.Enabled
            ? (await connection.QueryAsync<Eviction>(Sql.Command(Picked, parameters, cancellationToken))).ToLookup(e => e.WorkerName)
            : Array.Empty<Eviction>().ToLookup(e => e.WorkerName);
        await transaction.CommitAsync(cancellationToken);
        return [.. workers.Select(w => new WorkerDiskPressure(
            w.Worker,
            w.Capacity,
            w.Used,
            w.EvictableBytes,
            w.LiveBytes - w.EvictableBytes,
            w.ReleasingBytes,
            new DiskPressurePolicy(w.High, w.Low, w.Reserved, w.MaxKept),
            options.Enabled ? w.NeedBytes : 0,
            options.Enabled ? w.Reason : null,
            [.. picked[w.Worker]]))];
    }

    private sealed class WorkerRow
    {
        public string Worker { get; init; } = string.Empty;

        public long Capacity { get; init; }

        public long Used { get; init; }

        public long EvictableBytes { get; init; }

        public long LiveBytes { get; init; }

        public long ReleasingBytes { get; init; }

        public int High { get; init; }

        public int Low { get; init; }

        public long Reserved { get; init; }

        public long MaxKept { get; init; }

        public long NeedBytes { get; init; }

        public string? Reason { get; init; }
    }
}
