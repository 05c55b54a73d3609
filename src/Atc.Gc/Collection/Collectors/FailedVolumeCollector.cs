using Atc.Gc.Lifecycle;
using Atc.Gc.Model;

namespace Atc.Gc.Collection.Collectors;

/// <summary>
/// Marks failed volumes destroying, whatever their owners — the lifecycle's <see cref="VolumeTrigger.Discard"/>.
/// A failed volume is never usable (and cannot have children), so an owner that outlives it — its
/// cache, its container — must not keep it forever. Only on collectable workers.
/// </summary>
public sealed class FailedVolumeCollector(CollectorMetrics metrics) : ChunkedCollector
{
    private static readonly string DiscardFailedVolumes = BulkVolumeTransition.Statement(
        VolumeTransitions.For(VolumeTrigger.Discard),
        condition: $"EXISTS (SELECT 1 FROM workers w WHERE w.name = v.worker_name AND {WorkerStates.CollectableSql("w")})");

    public override string Name => "failed-volumes";

    protected override string Statement => DiscardFailedVolumes;

    protected override void Collected(ChunkTotals totals) => metrics.FailedDiscarded(totals.Changed);
}
