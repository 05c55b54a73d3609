using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Atc.Gc.Collection;

/// <summary>
/// Runs a collection pass every <see cref="CollectorOptions.Interval"/>, and at once when the database
/// signals a change. Passes never overlap in one process; several processes share the work through
/// row claims. A pass that throws is logged and the loop goes on.
/// </summary>
public sealed class CollectorService(
    GarbageCollector collector,
    CollectionSignal signal,
    WorkerDeleter deleter,
    NpgsqlDataSource dataSource,
    IOptions<CollectorOptions> options,
    ILogger<CollectorService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var listening = settings.ListenForChanges ? signal.ListenAsync(dataSource, stoppingToken) : Task.CompletedTask;
        logger.LogInformation(
            "Collector {CollectorId} started: a pass every {Interval}{Signals}",
            collector.CollectorId, settings.Interval, settings.ListenForChanges ? " and on every change signal" : string.Empty);

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await collector.RunPassAsync(cancellationToken: stoppingToken);
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
                var reason = await signal.WaitAsync(settings.Interval, settings.SignalDebounce, stoppingToken);
                logger.LogDebug("Next pass: {Reason}", reason);
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
