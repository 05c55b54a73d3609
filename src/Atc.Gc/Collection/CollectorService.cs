using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Atc.Gc.Collection;

/// <summary>
/// Runs a collection pass every <see cref="CollectorOptions.Interval"/>, and soon after the database
/// signals a change — as soon as the pass budgets allow (<see cref="CollectorOptions.MaxShareOfTime"/>,
/// this node's <see cref="PassBudget"/> and the cluster's <see cref="ClusterPassBudget"/>). Passes never
/// overlap in one process, and take turns between processes; the collectors are shared through
/// <see cref="CollectorCoordinator"/> and the rows through claims. A pass that throws is logged and
/// the loop goes on.
/// </summary>
public sealed class CollectorService(
    GarbageCollector collector,
    CollectionSignal signal,
    ClusterPassBudget cluster,
    WorkerDeleter deleter,
    NpgsqlDataSource dataSource,
    IOptions<CollectorOptions> options,
    TimeProvider time,
    ILogger<CollectorService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var listening = settings.ListenForChanges ? signal.ListenAsync(dataSource, stoppingToken) : Task.CompletedTask;
        logger.LogInformation(
            "Collector {CollectorId} started: a pass every {Interval}{Signals}",
            collector.CollectorId, settings.Interval, settings.ListenForChanges ? " and on every change signal" : string.Empty);

        var budget = new PassBudget(settings.MaxShareOfTime, PassBudget.DefaultBurst, time);
        var cause = new PassCause("start", PassTrigger.Signal, time.GetTimestamp());
        var first = true;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // The cluster's turn: another node passing, or the cluster's share of time spent, means
                // wait — signals arriving meanwhile fold into this pass, which then skips what the other
                // node did since.
                var (started, wait) = await cluster.TryStartAsync(collector.CollectorId, PassLease, stoppingToken);
                if (!started)
                {
                    logger.LogDebug("Next pass ({Reason}) waits {Wait:F0} ms for the cluster's turn", cause.Reason, wait.TotalMilliseconds);
                    await Task.Delay(wait < settings.Interval ? wait : settings.Interval, time, stoppingToken);
                    continue;
                }

                var spent = TimeSpan.Zero;
                try
                {
                    var report = await collector.RunPassAsync(new PassRequest(Trigger: cause.Trigger, RequestedAt: cause.At), stoppingToken);

                    // The budgets bound the work collection does: the collectors that ran, not those left
                    // to another node. This node's own budget lets its first pass (the warm-up) go free.
                    spent = TimeSpan.FromTicks(report.Collectors.Where(c => c.Skipped is null).Sum(c => c.Duration.Ticks));
                    if (!first)
                    {
                        budget.Spent(spent);
                    }

                    first = false;
                }
                finally
                {
                    await GiveBackTurnAsync(spent, settings.MaxShareOfTime);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Collection pass failed; the next one runs as scheduled");
            }

            try
            {
                cause = await signal.WaitAsync(settings.Interval, settings.SignalDebounce, stoppingToken);
                var wait = budget.WaitBeforeNextPass();
                logger.LogDebug("Next pass: {Reason}{Wait}", cause.Reason, wait > TimeSpan.Zero ? $", after {wait.TotalMilliseconds:F0} ms (pass budget)" : string.Empty);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
        }

        await listening;
    }

    /// <summary>How long a node holds the cluster's turn at most: a node that dies in its pass delays the others by this much.</summary>
    private static readonly TimeSpan PassLease = TimeSpan.FromMinutes(1);

    private async Task GiveBackTurnAsync(TimeSpan spent, double share)
    {
        try
        {
            await cluster.FinishAsync(collector.CollectorId, spent, share, CancellationToken.None);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            logger.LogWarning("Could not give back the cluster's turn to pass ({Message}); it ends with its lease", ex.Message);
        }
    }

    /// <summary>Stops the passes, then the workers' deletion loops, which release the claims they hold.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await deleter.StopAsync().WaitAsync(cancellationToken);
    }
}
