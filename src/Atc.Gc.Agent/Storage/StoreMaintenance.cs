using Atc.Gc.Agent.Native;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atc.Gc.Agent.Storage;

/// <summary>
/// The store's background loops: the reaper (removes what is in <c>dead/</c>, with retries) and the
/// sizes (measures volumes not measured for <see cref="AgentOptions.SizeInterval"/>, and tries again to
/// mount volumes that could not be after a restart). Each survives every failure and reports its
/// state in <c>/health</c>. Copies still running when the agent stops are killed.
/// </summary>
internal sealed class StoreMaintenance(VolumeStore store, AgentLoops loops, IOptions<AgentOptions> options, ILogger<StoreMaintenance> logger) : BackgroundService
{
    public const string ReaperLoop = "reaper";
    public const string SizesLoop = "sizes";

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        ChildProcesses.Shared.KillAll();
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reaper = loops[ReaperLoop];
        var sizes = loops[SizesLoop];
        await Task.WhenAll(
            Supervise(ReaperLoop, reaper, () => store.Reaper.RunAsync(reaper, stoppingToken), stoppingToken),
            Supervise(SizesLoop, sizes, () => SizesAsync(sizes, stoppingToken), stoppingToken));
    }

    private async Task SizesAsync(LoopState state, CancellationToken stoppingToken)
    {
        var interval = options.Value.SizeInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Run(() => store.MeasureStale(interval, stoppingToken), stoppingToken);
                if (store.Problems.Count > 0)
                {
                    store.RetryProblems();
                }

                state.Succeeded();
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                state.Failed(ex);
                store.Metrics.LoopFailed(SizesLoop);
                logger.LogWarning("Measuring volume sizes failed: {Message}; the loop goes on", ex.Message);
            }

            await Task.Delay(interval, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>Runs a loop until the agent stops; should it ever end or throw, that is recorded and it starts again.</summary>
    private async Task Supervise(string name, LoopState state, Func<Task> loop, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await loop();
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                state.Failed(ex);
                store.Metrics.LoopFailed(name);
                logger.LogError(ex, "The {Loop} loop ended with an error; it starts again", name);
            }

            if (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }

        state.Ended("stopped");
    }
}
