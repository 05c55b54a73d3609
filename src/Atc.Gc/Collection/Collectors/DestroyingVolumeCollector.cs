using System.Collections.Concurrent;
using Atc.Gc.Database;
using Atc.Gc.Lifecycle;
using Atc.Gc.Model;
using Atc.Gc.Workers;
using Dapper;
using Microsoft.Extensions.Logging;

namespace Atc.Gc.Collection.Collectors;

/// <summary>
/// Deletes destroying volumes from their workers and then their rows. For each collectable worker,
/// batches of its destroying volumes are claimed (<c>claimed_by</c>, with a lease so a dead
/// collector's claims expire), sent to the worker's agent, and the rows of the handles the worker
/// confirmed gone (deleted, or unknown to it) are removed — the lifecycle's
/// <see cref="VolumeTrigger.ConfirmDeleted"/>. Handles the worker did not confirm stay destroying,
/// unclaimed, with a growing backoff before the next try. Workers are worked on concurrently; a
/// worker that is slow or down only delays its own volumes: the pass waits for it at most
/// <see cref="CollectorOptions.WorkerWaitPerPass"/>, and while its deletion goes on in the background
/// later passes leave that worker alone.
/// </summary>
public sealed class DestroyingVolumeCollector(
    IWorkerVolumeClient workerClient, CollectorMetrics metrics, ILogger<DestroyingVolumeCollector> logger) : ICollector
{
    private static readonly VolumeTransition Confirm = VolumeTransitions.For(VolumeTrigger.ConfirmDeleted);
    private readonly ConcurrentDictionary<string, Task> inFlight = new(StringComparer.Ordinal);

    public string Name => "destroying-volumes";

    /// <summary>Workers whose deletion is still running from an earlier pass.</summary>
    public IReadOnlyCollection<string> WorkersInFlight => [.. inFlight.Keys];

    public async Task CollectAsync(CollectionPass pass, CollectorTally tally, CancellationToken cancellationToken)
    {
        IReadOnlyList<PendingWorker> workers;
        await using (var db = await pass.ConnectAsync(cancellationToken))
        {
            workers = (await db.Connection.QueryAsync<PendingWorker>(Sql.Command(pass.DryRun ? CountPendingByWorker : FindPendingWorkers, null, cancellationToken))).AsList();
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

        var slots = new SemaphoreSlim(pass.Options.MaxConcurrentWorkers);
        var started = new List<Task>();
        foreach (var worker in workers)
        {
            if (!Uri.TryCreate(worker.BaseUrl, UriKind.Absolute, out var baseUrl))
            {
                tally.Add($"no-address:{worker.Name}", 1);
                continue;
            }

            var endpoint = new WorkerEndpoint(worker.Name, baseUrl);
            var task = new TaskCompletionSource();
            if (!inFlight.TryAdd(worker.Name, task.Task))
            {
                tally.Add($"in-flight:{worker.Name}", 1);
                continue;
            }

            started.Add(RunWorkerAsync(pass, endpoint, slots, tally, task, cancellationToken));
        }

        var all = Task.WhenAll(started);
        if (pass.WaitForWorkers)
        {
            await all;
        }
        else
        {
            await Task.WhenAny(all, Task.Delay(pass.Options.WorkerWaitPerPass, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private async Task RunWorkerAsync(
        CollectionPass pass, WorkerEndpoint worker, SemaphoreSlim slots, CollectorTally tally, TaskCompletionSource done, CancellationToken cancellationToken)
    {
        try
        {
            await slots.WaitAsync(cancellationToken);
            try
            {
                await Task.WhenAll(Enumerable.Range(0, pass.Options.MaxConcurrentRequestsPerWorker)
                    .Select(_ => DrainAsync(pass, worker, tally, cancellationToken)));
            }
            finally
            {
                slots.Release();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // The claims expire; the next pass tries again.
            logger.LogError(ex, "Deleting volumes on worker {Worker} failed", worker.Name);
            tally.Add($"error:{worker.Name}", 1);
        }
        finally
        {
            inFlight.TryRemove(worker.Name, out _);
            done.TrySetResult();
        }
    }

    /// <summary>Claims, deletes and confirms batches on one worker until none is left or the worker fails a whole batch.</summary>
    private async Task DrainAsync(CollectionPass pass, WorkerEndpoint worker, CollectorTally tally, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            IReadOnlyList<ClaimedVolume> claimed;
            await using (var connection = await pass.DataSource.OpenConnectionAsync(cancellationToken))
            {
                claimed = (await connection.QueryAsync<ClaimedVolume>(Sql.Command(ClaimBatch, new
                {
                    worker = worker.Name,
                    collector = pass.CollectorId,
                    limit = pass.Options.DeleteBatchSize,
                    leaseSeconds = pass.Options.ClaimLease.TotalSeconds,
                }, cancellationToken))).AsList();
            }

            if (claimed.Count == 0)
            {
                return;
            }

            tally.AddExamined(claimed.Count);
            var results = await workerClient.DestroyAsync(worker, [.. claimed.Select(v => v.Handle)], cancellationToken);
            var gone = results.Where(r => r.Gone).Select(r => r.Handle).ToHashSet(StringComparer.Ordinal);
            var failed = claimed.Where(v => !gone.Contains(v.Handle)).ToList();

            await using (var connection = await pass.DataSource.OpenConnectionAsync(cancellationToken))
            {
                if (gone.Count > 0)
                {
                    var deleted = await connection.ExecuteAsync(Sql.Command(DeleteConfirmed, new
                    {
                        ids = claimed.Where(v => gone.Contains(v.Handle)).Select(v => v.Id).ToArray(),
                        collector = pass.CollectorId,
                    }, CancellationToken.None));
                    tally.AddChanged(deleted);
                    tally.Add($"deleted:{worker.Name}", deleted);
                    metrics.VolumesDestroyed(worker.Name, deleted);
                }

                if (failed.Count > 0)
                {
                    var error = results.FirstOrDefault(r => !r.Gone)?.Error ?? "not confirmed by the worker";
                    await connection.ExecuteAsync(Sql.Command(ReleaseForRetry, new
                    {
                        ids = failed.Select(v => v.Id).ToArray(),
                        collector = pass.CollectorId,
                        error,
                        backoffSeconds = pass.Options.RetryBackoff.TotalSeconds,
                        maxBackoffSeconds = pass.Options.MaxRetryBackoff.TotalSeconds,
                    }, CancellationToken.None));
                    tally.Add($"failed:{worker.Name}", failed.Count);
                    metrics.WorkerDeleteFailures(worker.Name, failed.Count);
                    logger.LogWarning(
                        "Worker {Worker} did not delete {Failed} of {Claimed} volumes ({Error}); they stay destroying and are retried",
                        worker.Name, failed.Count, claimed.Count, error);
                }
            }

            if (gone.Count == 0)
            {
                return;
            }
        }
    }

    private static readonly string DestroyingSql = Confirm.FromStatesSql("v");

    private static readonly string Claimable = $"{DestroyingSql} AND (v.claim_expires_at IS NULL OR v.claim_expires_at < now())";

    private static readonly string FindPendingWorkers =
        $"""
        SELECT w.name, w.base_url, 0 AS pending
        FROM workers w
        WHERE {WorkerStates.CollectableSql("w")}
          AND EXISTS (SELECT 1 FROM volumes v WHERE v.worker_name = w.name AND {Claimable})
        ORDER BY w.name
        """;

    private static readonly string CountPendingByWorker =
        $"""
        SELECT w.name, w.base_url, count(*) AS pending
        FROM workers w
        JOIN volumes v ON v.worker_name = w.name
        WHERE {WorkerStates.CollectableSql("w")} AND {Claimable}
        GROUP BY w.name, w.base_url
        ORDER BY w.name
        """;

    private static readonly string ClaimBatch =
        $"""
        UPDATE volumes v
        SET claimed_by = @collector, claim_expires_at = now() + @leaseSeconds * interval '1 second'
        WHERE v.id IN (
            SELECT v.id
            FROM volumes v
            WHERE v.worker_name = @worker AND {Claimable}
            ORDER BY v.id
            LIMIT @limit
            FOR UPDATE SKIP LOCKED)
        RETURNING v.id, v.handle
        """;

    private static readonly string DeleteConfirmed =
        $"DELETE FROM volumes v WHERE v.id = ANY(@ids) AND {Confirm.PredicateSql("v")} AND v.claimed_by = @collector";

    private static readonly string ReleaseForRetry =
        $"""
        UPDATE volumes v
        SET claimed_by = NULL,
            delete_attempts = v.delete_attempts + 1,
            last_delete_error = left(@error, 500),
            claim_expires_at = now() + least(@maxBackoffSeconds, @backoffSeconds * power(2, least(v.delete_attempts, 20))) * interval '1 second'
        WHERE v.id = ANY(@ids) AND {DestroyingSql} AND v.claimed_by = @collector
        """;

    private sealed class PendingWorker
    {
        public string Name { get; init; } = string.Empty;

        public string? BaseUrl { get; init; }

        public long Pending { get; init; }
    }

    private sealed class ClaimedVolume
    {
        public long Id { get; init; }

        public string Handle { get; init; } = string.Empty;
    }
}
