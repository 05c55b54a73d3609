using Atc.Gc.Lifecycle;
using Atc.Gc.Model;

namespace Atc.Gc.Collection.Collectors;

/// <summary>
/// Marks orphans destroying: created, initialized or failed volumes with every owner column NULL and
/// no children, on collectable workers. The statement is the lifecycle's <see cref="VolumeTrigger.Destroy"/>
/// transition (from-states and guards) restricted to those workers.
/// </summary>
public sealed class OrphanedVolumeCollector(CollectorMetrics metrics) : ICollector
{
    private static readonly string MarkOrphans = BulkVolumeTransition.Statement(
        VolumeTransitions.For(VolumeTrigger.Destroy),
        condition: $"EXISTS (SELECT 1 FROM workers w WHERE w.name = v.worker_name AND {WorkerStates.CollectableSql("w")})");

    public string Name => "orphaned-volumes";

    public async Task CollectAsync(CollectionPass pass, CollectorTally tally, CancellationToken cancellationToken)
    {
        await using var db = await pass.ConnectAsync(cancellationToken);
        var totals = await ChunkedStatement.RunAsync(db, MarkOrphans, null, pass.Options.BatchSize, cancellationToken);
        tally.Add(totals);
        if (!pass.DryRun)
        {
            metrics.OrphansMarked(totals.Changed);
        }
    }
}
