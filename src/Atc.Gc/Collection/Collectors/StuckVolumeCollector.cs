using Atc.Gc.Lifecycle;

namespace Atc.Gc.Collection.Collectors;

/// <summary>
/// Fails volumes stuck in setup: still creating or initializing after <see cref="CollectorOptions.SetupTimeout"/>.
/// The statement is the lifecycle's <see cref="VolumeTrigger.Fail"/> transition with an age condition.
/// </summary>
public sealed class StuckVolumeCollector : ICollector
{
    private static readonly string FailStuckVolumes = BulkVolumeTransition.Statement(
        VolumeTransitions.For(VolumeTrigger.Fail),
        condition: "v.state_changed_at < now() - @timeoutSeconds * interval '1 second'");

    public string Name => "stuck-volumes";

    public async Task CollectAsync(CollectionPass pass, CollectorTally tally, CancellationToken cancellationToken)
    {
        await using var db = await pass.ConnectAsync(cancellationToken);
        tally.Add(await ChunkedStatement.RunAsync(
            db, FailStuckVolumes, new { timeoutSeconds = pass.Options.SetupTimeout.TotalSeconds }, pass.Options.BatchSize, cancellationToken));
    }
}
