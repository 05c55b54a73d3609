using Atc.Gc.Database;
using Atc.Gc.Lifecycle;
using Atc.Gc.Model;
using Atc.Gc.Workers;
using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Atc.Gc.Collection;

/// <summary>
/// Deletes destroying volumes on their workers, one drain loop per worker, independently of the
/// collection passes and of each other (as Concourse's per-worker sweepers do): a pass only asks for a
/// drain (<see cref="RequestDrain"/>) and moves on, so a worker that hangs holds up nothing but its
/// own volumes. Requests made while a worker's drain runs fold into one more drain after it.
/// <para>
/// A drain claims batches of the worker's destroying volumes (<c>claimed_by</c>, with a lease so a
/// dead collector's claims expire), sends them to the worker's agent, and deletes the rows of the
/// handles the worker confirmed gone — the lifecycle's <see cref="VolumeTrigger.ConfirmDeleted"/>.
/// Handles it did not confirm, and a batch whose call failed in any way, are released for a retry
/// after a growing backoff. On shutdown the loops stop and release the claims they hold.
/// </para>
/// </summary>
public sealed class WorkerDeleter(
    NpgsqlDataSource dataSource,
    IWorkerVolumeClient workerClient,
    IOptions<CollectorOptions> options,
    CollectorMetrics metrics,
    ILogger<WorkerDeleter> logger) : IAsyncDisposable
{
    private static readonly VolumeTransition Confirm = VolumeTransitions.For(VolumeTrigger.ConfirmDeleted);
    private readonly Dictionary<string, WorkerLoop> loops = new(StringComparer.Ordinal);
    private readonly Lock sync = new();
    private CancellationTokenSource stopping = new();
    private bool disposed;
    private SemaphoreSlim? workerSlots;

    /// <summary>Workers whose drain is running or queued.</summary>
    public IReadOnlyCollection<string> Busy
    {
        get
        {
            lock (sync)
            {
                return [.. loops.Keys];
            }
        }
    }

    /// <summary>
    /// Asks for a drain of <paramref name="worker"/>'s destroying volumes, claimed as
    /// <paramref name="collectorId"/>. Returns at once with a task that completes when a drain that
    /// started after this request has ended; what it did is added to <paramref name="tally"/> when given.
    /// </summary>
    public Task RequestDrain(WorkerEndpoint worker, string collectorId, CollectorTally? tally = null)
    {
        ArgumentNullException.ThrowIfNull(worker);
        lock (sync)
        {
            if (disposed)
            {
                return Task.CompletedTask;
            }

            if (!loops.TryGetValue(worker.Name, out var loop))
            {
                loop = new WorkerLoop(worker, collectorId, stopping.Token);
                loops[worker.Name] = loop;
                loop.Next = new DrainRequest();
                loop.Task = Task.Run(() => RunLoopAsync(loop));
            }
            else
            {
                loop.Endpoint = worker;
                loop.Next ??= new DrainRequest();
            }

            if (tally is not null)
            {
                loop.Next.Tallies.Add(tally);
            }

            return loop.Next.Done.Task;
        }
    }

    /// <summary>
    /// Stops every running loop; each releases the claims it holds. A drain requested afterwards
    /// starts a new loop (a one-off pass after the service stopped), unless the deleter is disposed.
    /// </summary>
    public async Task StopAsync()
    {
        CancellationTokenSource stopped;
        Task[] running;
        lock (sync)
        {
            stopped = stopping;
            stopping = new CancellationTokenSource();
            running = [.. loops.Values.Select(l => l.Task).OfType<Task>()];
        }

        await stopped.CancelAsync();
        await Task.WhenAll(running);
        stopped.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        lock (sync)
        {
            disposed = true;
        }

        await StopAsync();
        stopping.Dispose();
        workerSlots?.Dispose();
    }

    private async Task RunLoopAsync(WorkerLoop loop)
    {
        while (true)
        {
            DrainRequest? request;
            lock (sync)
            {
                request = loop.Next;
                loop.Next = null;
                if (request is null || loop.Stopping.IsCancellationRequested)
                {
                    loops.Remove(loop.Endpoint.Name);
                    request?.Done.TrySetResult();
                    return;
                }
            }

            var tally = new CollectorTally();
            var slots = Slots();
            try
            {
                await slots.WaitAsync(loop.Stopping);
                try
                {
                    await Task.WhenAll(Enumerable.Range(0, options.Value.MaxConcurrentRequestsPerWorker)
                        .Select(_ => DrainAsync(loop.Endpoint, loop.CollectorId, tally, loop.Stopping)));
                }
                finally
                {
                    slots.Release();
                }
            }
            catch (OperationCanceledException) when (loop.Stopping.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Deleting volumes on worker {Worker} failed; the next pass tries again", loop.Endpoint.Name);
                tally.Add($"error:{loop.Endpoint.Name}", 1);
            }

            foreach (var waiting in request.Tallies)
            {
                waiting.AddExamined(tally.Examined);
                waiting.AddChanged(tally.Changed);
                foreach (var (detail, count) in tally.Details)
                {
                    waiting.Add(detail, count);
                }
            }

            request.Done.TrySetResult();
        }
    }

    private SemaphoreSlim Slots()
    {
        lock (sync)
        {
            return workerSlots ??= new SemaphoreSlim(options.Value.MaxConcurrentWorkers);
        }
    }

    /// <summary>Claims, deletes and confirms batches on one worker until none is left or the worker takes nothing of a batch.</summary>
    private async Task DrainAsync(WorkerEndpoint worker, string collectorId, CollectorTally tally, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        while (!cancellationToken.IsCancellationRequested)
        {
            IReadOnlyList<ClaimedVolume> claimed;
            await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
            {
                claimed = (await connection.QueryAsync<ClaimedVolume>(Sql.Command(ClaimBatch, new
                {
                    worker = worker.Name,
                    collector = collectorId,
                    limit = settings.DeleteBatchSize,
                    leaseSeconds = settings.ClaimLease.TotalSeconds,
                }, cancellationToken))).AsList();
            }

            if (claimed.Count == 0)
            {
                return;
            }

            tally.AddExamined(claimed.Count);
            IReadOnlyList<VolumeDeletion> results;
            try
            {
                results = await workerClient.DestroyAsync(worker, [.. claimed.Select(v => v.Handle)], cancellationToken);
            }
            catch (Exception ex)
            {
                // Cancelled (shutting down) or anything the client did not turn into a result: the batch
                // goes back for a retry now rather than when the lease expires.
                var why = cancellationToken.IsCancellationRequested ? "the collector stopped" : $"{ex.GetType().Name}: {ex.Message}";
                await ReleaseAsync(worker, collectorId, claimed, why, backoff: !cancellationToken.IsCancellationRequested, tally);
                if (cancellationToken.IsCancellationRequested)
                {
                    return;
                }

                throw;
            }

            var gone = results.Where(r => r.Gone).Select(r => r.Handle).ToHashSet(StringComparer.Ordinal);
            var pending = results.Where(r => r.Pending && !r.Gone).Select(r => r.Handle).ToHashSet(StringComparer.Ordinal);
            var failed = claimed.Where(v => !gone.Contains(v.Handle) && !pending.Contains(v.Handle)).ToList();
            if (gone.Count > 0)
            {
                await using var connection = await dataSource.OpenConnectionAsync(CancellationToken.None);
                var deleted = await connection.ExecuteAsync(Sql.Command(DeleteConfirmed, new
                {
                    ids = claimed.Where(v => gone.Contains(v.Handle)).Select(v => v.Id).ToArray(),
                    collector = collectorId,
                }, CancellationToken.None));
                tally.AddChanged(deleted);
                tally.Add($"deleted:{worker.Name}", deleted);
                metrics.VolumesDestroyed(worker.Name, deleted);
            }

            if (pending.Count > 0)
            {
                await RecheckLaterAsync(worker, collectorId, [.. claimed.Where(v => pending.Contains(v.Handle))], tally);
            }

            if (failed.Count > 0)
            {
                // What a worker said is stored and logged: a short single line, whatever it sent.
                var error = Excerpt.Of(results.FirstOrDefault(r => !r.Gone && !r.Pending)?.Error) is { Length: > 0 } said ? said : "not confirmed by the worker";
                await ReleaseAsync(worker, collectorId, failed, error, backoff: true, tally);
                logger.LogWarning(
                    "Worker {Worker} did not delete {Failed} of {Claimed} volumes ({Error}); they stay destroying and are retried",
                    worker.Name, failed.Count, claimed.Count, error);
            }

            // A batch the worker took (gone, or still being removed in the background) means it is
            // answering: go on with the rest now rather than at the next pass, which the pass budget may
            // hold back for many seconds. Only a batch it took nothing of ends the drain.
            if (gone.Count == 0 && pending.Count == 0)
            {
                return;
            }
        }
    }

    /// <summary>Volumes the worker is still removing: unclaimed, asked about again after <see cref="CollectorOptions.PendingRecheck"/>.</summary>
    private async Task RecheckLaterAsync(WorkerEndpoint worker, string collectorId, IReadOnlyList<ClaimedVolume> volumes, CollectorTally tally)
    {
        await using var connection = await dataSource.OpenConnectionAsync(CancellationToken.None);
        await connection.ExecuteAsync(Sql.Command(RecheckPending, new
        {
            ids = volumes.Select(v => v.Id).ToArray(),
            collector = collectorId,
            recheckSeconds = options.Value.PendingRecheck.TotalSeconds,
        }, CancellationToken.None));
        tally.Add($"pending:{worker.Name}", volumes.Count);
    }

    /// <summary>Gives claimed volumes back: for a retry after a backoff, or (shutting down) at once.</summary>
    private async Task ReleaseAsync(WorkerEndpoint worker, string collectorId, IReadOnlyList<ClaimedVolume> volumes, string error, bool backoff, CollectorTally tally)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(timeout.Token);
            await connection.ExecuteAsync(Sql.Command(backoff ? ReleaseForRetry : ReleaseNow, new
            {
                ids = volumes.Select(v => v.Id).ToArray(),
                collector = collectorId,
                error,
                backoffSeconds = options.Value.RetryBackoff.TotalSeconds,
                maxBackoffSeconds = options.Value.MaxRetryBackoff.TotalSeconds,
            }, timeout.Token));
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or ObjectDisposedException)
        {
            logger.LogWarning("Could not release {Count} claims on worker {Worker} ({Message}); they expire after the lease", volumes.Count, worker.Name, ex.Message);
        }

        if (backoff)
        {
            tally.Add($"failed:{worker.Name}", volumes.Count);
            metrics.WorkerDeleteFailures(worker.Name, volumes.Count);
        }
    }

    private static readonly string DestroyingSql = Confirm.FromStatesSql("v");

    /// <summary>Destroying and not claimed by a live lease or waiting out a backoff.</summary>
    internal static readonly string Claimable = $"{DestroyingSql} AND (v.claim_expires_at IS NULL OR v.claim_expires_at < now())";

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
            last_delete_error = @error,
            claim_expires_at = now() + least(@maxBackoffSeconds, @backoffSeconds * power(2, least(v.delete_attempts, 20))) * interval '1 second'
        WHERE v.id = ANY(@ids) AND {DestroyingSql} AND v.claimed_by = @collector
        """;

    private static readonly string RecheckPending =
        $"""
        UPDATE volumes v SET claimed_by = NULL, claim_expires_at = now() + @recheckSeconds * interval '1 second'
        WHERE v.id = ANY(@ids) AND {DestroyingSql} AND v.claimed_by = @collector
        """;

    private static readonly string ReleaseNow =
        $"UPDATE volumes v SET claimed_by = NULL, claim_expires_at = NULL WHERE v.id = ANY(@ids) AND {DestroyingSql} AND v.claimed_by = @collector";

    private sealed class WorkerLoop(WorkerEndpoint endpoint, string collectorId, CancellationToken stopping)
    {
        public WorkerEndpoint Endpoint { get; set; } = endpoint;

        public string CollectorId { get; } = collectorId;

        /// <summary>Fires when the deleter stops (then the loop releases its claims and ends).</summary>
        public CancellationToken Stopping { get; } = stopping;

        public DrainRequest? Next { get; set; }

        public Task? Task { get; set; }
    }

    private sealed class DrainRequest
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<CollectorTally> Tallies { get; } = [];
    }

    private sealed class ClaimedVolume
    {
        public long Id { get; init; }

        public string Handle { get; init; } = string.Empty;
    }
}
