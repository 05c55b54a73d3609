using Atc.Gc.Lifecycle;

namespace Atc.Gc.Collection;

/// <summary>
/// A collector that is one lifecycle transition applied in bulk (<see cref="BulkVolumeTransition"/>):
/// the trigger's from-states and guards, compiled from the definition, plus the collector's own condition.
/// </summary>
public abstract class VolumeTransitionCollector(VolumeTrigger trigger, string condition) : ChunkedCollector
{
    private readonly string statement = BulkVolumeTransition.Statement(VolumeTransitions.For(trigger), condition);

    protected sealed override string Statement => statement;
}
