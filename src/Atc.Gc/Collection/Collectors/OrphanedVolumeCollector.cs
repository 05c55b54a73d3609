using Atc.Gc.Lifecycle;

namespace Atc.Gc.Collection.Collectors;

/// <summary>
/// Marks orphans destroying: created or initialized volumes with every owner column NULL and no
/// children, on collectable workers — the lifecycle's <see cref="VolumeTrigger.Destroy"/>.
/// </summary>
public sealed class OrphanedVolumeCollector(CollectorMetrics metrics)
    : VolumeTransitionCollector(VolumeTrigger.Destroy, BulkVolumeTransition.OnCollectableWorker)
{
    public override string Name => "orphaned-volumes";

    protected override void Collected(ChunkTotals totals) => metrics.OrphansMarked(totals.Changed);
}
