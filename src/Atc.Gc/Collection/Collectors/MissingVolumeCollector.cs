using Atc.Gc.Lifecycle;

namespace Atc.Gc.Collection.Collectors;

/// <summary>
/// Forgets volumes their worker lost — the lifecycle's <see cref="VolumeTrigger.Forget"/>: missing,
/// with no owner and no child — once <see cref="CollectorOptions.MissingReports"/> of the worker's
/// reports, each listed after the volume was marked missing, did not list it (time alone never
/// counts). A missing parent is forgotten only after its children are gone: level by level, like
/// everything else, so a volume with an owner, or with an owned descendant, is never forgotten.
/// </summary>
public sealed class MissingVolumeCollector()
    : VolumeTransitionCollector(VolumeTrigger.Forget, $"v.missing_reports >= @reports AND {BulkVolumeTransition.OnCollectableWorker}")
{
    public override string Name => "missing-volumes";

    protected override object? Parameters(CollectorOptions options) => new { reports = options.MissingReports };
}
