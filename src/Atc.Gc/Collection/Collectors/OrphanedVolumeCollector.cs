using Atc.Gc.Lifecycle;
using Atc.Gc.Model;

namespace Atc.Gc.Collection.Collectors;

/// <summary>
/// Marks orphans destroying: created, initialized or failed volumes with every owner column NULL and
/// no children, on collectable workers. The statement is the lifecycle's <see cref="VolumeTrigger.Destroy"/>
/// transition (from-states and guards) restricted to those workers.
/// </summary>
public sealed class OrphanedVolumeCollector(CollectorMetrics metrics) : ChunkedCollector
{
    private static readonly string MarkOrphans = BulkVolumeTransition.Statement(
        VolumeTransitions.For(VolumeTrigger.Destroy),
        condition: $"EXISTS (SELECT 1 FROM workers w WHERE w.name = v.worker_name AND {WorkerStates.CollectableSql("w")})");

    public override string Name => "orphaned-volumes";

    protected override string Statement => MarkOrphans;

    protected override void Collected(ChunkTotals totals) => metrics.OrphansMarked(totals.Changed);
}
