using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Atc.Gc.Collection;

/// <summary>
/// Runs a collection pass every <see cref="CollectorOptions.Interval"/>, and soon after the database
/// signals a change — as soon as the pass budget allows (<see cref="CollectorOptions.MaxShareOfTime"/>).
/// Passes never overlap in one process; several processes share the collectors through
/// <see cref="CollectorCoordinator"/> and the rows through claims. A pass that throws is logged and
/// the loop goes on.
/// </summary>
public sealed class CollectorService(
    GarbageCollector collector,
    CollectionSignal signal,
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

        var budget = new PassBudget(settings.MaxShareOfTime, TimeSpan.FromSeconds(1), time);
        var cause = new PassCause("start", PassTrigger.Signal, time.GetTimestamp());
        var first = true;
        while (!stoppingToken.IsCancellationRequested)
        {
            PassCause? retry = null;
            var retryIn = TimeSpan.Zero;
            try
            {
                var report = await collector.RunPassAsync(new PassRequest(Trigger: cause.Trigger, RequestedAt: cause.At), stoppingToken);

                // A signal this node left to the cluster's budget is asked about again when the budget
                // allows, in case the node that ran the collector is gone by then.
                if (report.RetryIn is { } due && cause.Trigger == PassTrigger.Signal)
                {
                    retry = cause with { Reason = $"{cause.Reason} (again, after the cluster's budget)" };
                    retryIn = due;
                }

                // The budget bounds the work collection does: the collectors that ran, not those left to
                // another node, and not the first pass's warm-up.
                if (!first)
                {
                    budget.Spent(TimeSpan.FromTicks(report.Collectors.Where(c => c.Skipped is null).Sum(c => c.Duration.Ticks)));
                }

                first = false;
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
                var timeout = retry is not null && retryIn < settings.Interval ? retryIn + settings.SignalDebounce : settings.Interval;
                cause = await signal.WaitAsync(timeout, settings.SignalDebounce, stoppingToken);
                if (retry is not null && cause.Trigger == PassTrigger.Interval && timeout < settings.Interval)
                {
                    cause = retry;
                }

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

    /// <summary>Stops the passes, then the workers' deletion loops, which release the claims they hold.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await deleter.StopAsync().WaitAsync(cancellationToken);
    }
}
