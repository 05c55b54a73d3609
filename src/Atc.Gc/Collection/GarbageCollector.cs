using System.Diagnostics;
using Atc.Gc.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Atc.Gc.Collection;

/// <summary>What a pass should do.</summary>
/// <param name="DryRun">Report what would be collected and change nothing (one transaction, rolled back; nothing sent to workers).</param>
/// <param name="WaitForWorkers">Wait for the worker deletions the pass asked for (their results are in the report) instead of leaving them to the per-worker loops.</param>
/// <param name="Only">Run only the collectors with these names (in pass order); all when null.</param>
/// <param name="InspectDryRun">In a dry run, called with the pass's connection after the collectors ran and before the rollback: what the database would look like after the pass.</param>
/// <param name="Trigger">Why the pass runs: a one-off pass runs every collector; an interval or signal pass leaves a collector another node has run (or runs) to it.</param>
/// <param name="RequestedAt">For a signal pass: when the signal arrived (a <see cref="TimeProvider"/> timestamp).</param>
public sealed record PassRequest(
    bool DryRun = false,
    bool WaitForWorkers = false,
    IReadOnlyCollection<string>? Only = null,
    Func<NpgsqlConnection, CancellationToken, Task>? InspectDryRun = null,
    PassTrigger Trigger = PassTrigger.OneOff,
    long RequestedAt = 0)
{
    public static PassRequest Default { get; } = new();

    /// <summary>A pass that waits for every worker (one-off passes from the command line and tests).</summary>
    public static PassRequest Complete { get; } = new(WaitForWorkers: true);
}

/// <summary>
/// Runs collection passes: every collector once, in dependency order (workers → builds → cache uses →
/// caches → configs → task caches → containers → stuck, missing, orphaned and destroying volumes), so
/// one pass carries a release all the way to the worker's disk. A collector that fails is logged and
/// retried on the next pass; the ones after it still run.
/// </summary>
public sealed class GarbageCollector(
    NpgsqlDataSource dataSource,
    CollectorCoordinator coordinator,
    IEnumerable<ICollector> collectors,
    IOptions<CollectorOptions> options,
    CollectorMetrics metrics,
    CollectorHealth health,
    TimeProvider timeProvider,
    ILogger<GarbageCollector> logger)
{
    private readonly IReadOnlyList<ICollector> collectors = [.. collectors];

    /// <summary>Identifies this process's claims on volumes.</summary>
    public string CollectorId { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    public IReadOnlyList<string> CollectorNames => [.. collectors.Select(c => c.Name)];

    /// <summary>Runs one pass.</summary>
    public async Task<PassReport> RunPassAsync(PassRequest? request = null, CancellationToken cancellationToken = default)
    {
        request ??= PassRequest.Default;
        var (dryRun, waitForWorkers, only, inspectDryRun) = (request.DryRun, request.WaitForWorkers, request.Only, request.InspectDryRun);
        var unknown = only?.Where(name => collectors.All(c => c.Name != name)).ToList();
        if (unknown is { Count: > 0 })
        {
            throw new ArgumentException(
                $"unknown collector {string.Join(", ", unknown.Select(n => $"'{n}'"))}: the collectors are {string.Join(", ", CollectorNames)}", nameof(request));
        }

        using var activity = CollectorTracing.StartPass(dryRun, request.Trigger.ToString());
        var startedAt = timeProvider.GetUtcNow();
        var clock = Stopwatch.StartNew();
        var reports = new List<CollectorReport>(collectors.Count);
        if (!dryRun && await coordinator.PausedAsync(cancellationToken) is { } paused)
        {
            var pausedReport = new PassReport(startedAt, clock.Elapsed, DryRun: false, [], paused);
            health.Record(pausedReport, timeProvider.GetUtcNow());
            logger.LogDebug("Collection is paused (by {By} since {At}): no collector ran", paused.PausedBy, paused.PausedAt);
            return pausedReport;
        }

        await using var dryRunConnection = dryRun ? await dataSource.OpenConnectionAsync(cancellationToken) : null;
        await using var dryRunTransaction = dryRunConnection is null ? null : await dryRunConnection.BeginTransactionAsync(cancellationToken);
        var pass = new CollectionPass(dataSource, options.Value, CollectorId, dryRunConnection, waitForWorkers);

        foreach (var collector in collectors.Where(c => only is null || only.Contains(c.Name)))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var mustRun = reports.Any(r => r.Changed > 0);
            reports.Add(await RunCollectorAsync(collector, pass, request, mustRun, dryRunTransaction, cancellationToken));
        }

        if (dryRunTransaction is not null)
        {
            if (inspectDryRun is not null)
            {
                await inspectDryRun(dryRunConnection!, cancellationToken);
            }

            await dryRunTransaction.RollbackAsync(CancellationToken.None);
        }

        var report = new PassReport(startedAt, clock.Elapsed, dryRun, reports);
        if (!dryRun)
        {
            metrics.PassCompleted(report.Duration);
            health.Record(report, timeProvider.GetUtcNow());
        }

        if (report.Failed)
        {
            activity?.SetStatus(ActivityStatusCode.Error, "a collector failed");
        }

        PassLog.Write(logger, report);
        return report;
    }

    private async Task<CollectorReport> RunCollectorAsync(
        ICollector collector, CollectionPass pass, PassRequest request, bool mustRun, NpgsqlTransaction? dryRunTransaction, CancellationToken cancellationToken)
    {
        using var activity = CollectorTracing.StartCollector(collector.Name);
        var clock = Stopwatch.StartNew();
        var tally = new CollectorTally();
        string? error = null;
        CollectorTurn? turn = null;
        if (!pass.DryRun && request.Trigger != PassTrigger.OneOff)
        {
            var since = request.RequestedAt == 0 ? TimeSpan.Zero : timeProvider.GetElapsedTime(request.RequestedAt);
            var take = await coordinator.TryTakeAsync(
                collector.Name, CollectorId, request.Trigger, pass.Options.Interval, since, mustRun, cancellationToken);
            turn = take.Turn;
            if (turn is null)
            {
                metrics.CollectorSkipped(collector.Name);
                logger.LogDebug("Collector {Collector} skipped: {Why}", collector.Name, take.Skipped);
                CollectorTracing.Finish(activity, 0, 0, error: null, take.Skipped);
                return new CollectorReport(collector.Name, 0, 0, clock.Elapsed, new Dictionary<string, long>(), Skipped: take.Skipped);
            }
        }

        await using var lease = turn;
        if (dryRunTransaction is not null)
        {
            await dryRunTransaction.SaveAsync(collector.Name, cancellationToken);
        }

        try
        {
            await collector.CollectAsync(pass, tally, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            error = ex.Message.Split('\n')[0];
            logger.LogError(ex, "Collector {Collector} failed; it runs again on the next pass", collector.Name);
            if (dryRunTransaction is not null)
            {
                await dryRunTransaction.RollbackAsync(collector.Name, CancellationToken.None);
            }
        }

        var report = new CollectorReport(collector.Name, tally.Examined, tally.Changed, clock.Elapsed, tally.Details, error);
        if (turn is not null)
        {
            await turn.FinishedAsync(report.Duration, error);
        }

        if (!pass.DryRun)
        {
            metrics.CollectorCompleted(report);
        }

        CollectorTracing.Finish(activity, report.Examined, report.Changed, error, skipped: null);
        return report;
    }
}
