using Atc.Gc.Lifecycle;

namespace Atc.Gc.Collection.Collectors;

/// <summary>
/// Fails volumes stuck in setup: still creating or initializing after <see cref="CollectorOptions.SetupTimeout"/>.
/// The statement is the lifecycle's <see cref="VolumeTrigger.Fail"/> transition with an age condition.
/// </summary>
public sealed class StuckVolumeCollector : ChunkedCollector
{
    private static readonly string FailStuckVolumes = BulkVolumeTransition.Statement(
        VolumeTransitions.For(VolumeTrigger.Fail),
        condition: "v.state_changed_at < now() - @timeoutSeconds * interval '1 second'");

    public override string Name => "stuck-volumes";

    protected override string Statement => FailStuckVolumes;

    protected override object? Parameters(CollectorOptions options) => new { timeoutSeconds = options.SetupTimeout.TotalSeconds };
}
