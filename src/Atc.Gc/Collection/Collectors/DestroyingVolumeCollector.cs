using Atc.Gc.Database;
using Atc.Gc.Lifecycle;
using Atc.Gc.Model;
using Atc.Gc.Workers;
using Dapper;

namespace Atc.Gc.Collection.Collectors;

/// <summary>
/// Hands every collectable worker with destroying volumes ready to be sent (not claimed, not waiting
/// out a backoff) to its deletion loop (<see cref="WorkerDeleter"/>), which deletes them on the worker
/// and then their rows — the lifecycle's <see cref="VolumeTrigger.ConfirmDeleted"/>. The pass does not
/// wait for the workers (a one-off pass that asks to does), so a slow or hung worker never delays the
/// pass nor another worker's deletions. A dry run only counts what is pending, per worker.
/// </summary>
public sealed class DestroyingVolumeCollector(WorkerDeleter deleter) : ICollector
{
    public string Name => "destroying-volumes";

    public async Task CollectAsync(CollectionPass pass, CollectorTally tally, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pass);
        ArgumentNullException.ThrowIfNull(tally);
        IReadOnlyList<PendingWorker> workers;
        await using (var db = await pass.ConnectAsync(cancellationToken))
        {
            workers = (await db.Connection.QueryAsync<PendingWorker>(Sql.Command(PendingByWorker, null, cancellationToken))).AsList();
        }

        if (pass.DryRun)
        {
            foreach (var worker in workers)
            {
                tally.AddExamined(worker.Pending);
                tally.AddChanged(worker.Pending);
                tally.Add($"worker:{worker.Name}", worker.Pending);
            }

            return;
        }

        var drains = new List<Task>();
        foreach (var worker in workers)
        {
            if (!Uri.TryCreate(worker.BaseUrl, UriKind.Absolute, out var baseUrl))
            {
                tally.Add($"no-address:{worker.Name}", 1);
                continue;
            }

            drains.Add(deleter.RequestDrain(new WorkerEndpoint(worker.Name, baseUrl, worker.Generation), pass.CollectorId, pass.WaitForWorkers ? tally : null));
        }

        if (pass.WaitForWorkers)
        {
            await Task.WhenAll(drains).WaitAsync(cancellationToken);
        }
        else
        {
            tally.Add("workers-signalled", drains.Count);
        }
    }

    private static readonly string PendingByWorker =
        $"""
        SELECT w.name, w.base_url, coalesce(c.generation, 0) AS generation, count(*) AS pending
        FROM workers w
        JOIN volumes v ON v.worker_name = w.name
        LEFT JOIN worker_credentials c ON c.name = w.name
        WHERE {WorkerStates.CollectableSql("w")} AND {WorkerDeleter.Claimable}
        GROUP BY w.name, w.base_url, c.generation
        ORDER BY w.name
        """;

    private sealed class PendingWorker
    {
        public string Name { get; init; } = string.Empty;

        public string? BaseUrl { get; init; }

        /// <summary>The worker's token generation: its token is derived with it.</summary>
        public long Generation { get; init; }

        public long Pending { get; init; }
    }
}
