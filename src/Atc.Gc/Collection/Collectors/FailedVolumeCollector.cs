using Atc.Gc.Lifecycle;

namespace Atc.Gc.Collection.Collectors;

/// <summary>
/// Marks failed volumes destroying, whatever their owners — the lifecycle's <see cref="VolumeTrigger.Discard"/>.
/// A failed volume is never usable (and cannot have children), so an owner that outlives it — its
/// cache, its container — must not keep it forever. Only on collectable workers.
/// </summary>
public sealed class FailedVolumeCollector(CollectorMetrics metrics)
    : VolumeTransitionCollector(VolumeTrigger.Discard, BulkVolumeTransition.OnCollectableWorker)
{
    public override string Name => "failed-volumes";

    protected override void Collected(ChunkTotals totals) => metrics.FailedDiscarded(totals.Changed);
}
