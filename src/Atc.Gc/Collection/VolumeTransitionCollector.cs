using Atc.Gc.Lifecycle;

namespace Atc.Gc.Collection;

/// <summary>
/// A collector that is one lifecycle transition applied in bulk (<see cref="VolumeTransitionStatements.Bulk"/>):
/// the trigger's from-states and guards, compiled from the definition, plus the collector's own condition.
/// </summary>
public abstract class VolumeTransitionCollector(VolumeTrigger trigger, string condition) : ChunkedCollector
{
    private readonly string statement = VolumeTransitionStatements.For(trigger).Bulk(condition);

    protected sealed override string Statement => statement;
}
