using Atc.Gc.Lifecycle;
using Atc.Gc.Model;

namespace Atc.Gc.Collection;

/// <summary>
/// Conditions the collectors add to a lifecycle transition applied to many volumes at once
/// (<see cref="VolumeTransitionStatements.Bulk"/>).
/// </summary>
internal static class BulkVolumeTransition
{
    /// <summary>The volume <c>v</c> is on a worker the collector works on (running, landing or retiring).</summary>
    public static string OnCollectableWorker { get; } =
        $"EXISTS (SELECT 1 FROM workers w WHERE w.name = v.worker_name AND {WorkerStates.CollectableSql("w")})";
}
