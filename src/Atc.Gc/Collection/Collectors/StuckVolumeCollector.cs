using Atc.Gc.Lifecycle;

namespace Atc.Gc.Collection.Collectors;

/// <summary>
/// Fails volumes stuck in setup: still creating or initializing after <see cref="CollectorOptions.SetupTimeout"/> —
/// the lifecycle's <see cref="VolumeTrigger.Fail"/> with an age condition.
/// </summary>
public sealed class StuckVolumeCollector()
    : VolumeTransitionCollector(VolumeTrigger.Fail, "v.state_changed_at < now() - @timeoutSeconds * interval '1 second'")
{
    public override string Name => "stuck-volumes";

    protected override object? Parameters(CollectorOptions options) => new { timeoutSeconds = options.SetupTimeout.TotalSeconds };
}
