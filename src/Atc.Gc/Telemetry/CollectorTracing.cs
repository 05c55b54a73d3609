using System.Diagnostics;

namespace Atc.Gc.Telemetry;

/// <summary>
/// The collector's spans, on the activity source <see cref="SourceName"/>: one per pass
/// (<c>atc_gc.pass</c>) with one child per collector (<c>atc_gc.collector</c>). Calls to workers made
/// during a collector's run (deletes) are children of its span, and carry its trace context to the agent.
/// </summary>
public static class CollectorTracing
{
    public const string SourceName = "Atc.Gc.Collector";

    public static ActivitySource Source { get; } = new(SourceName);

    /// <summary>A pass's span, or null when no one listens.</summary>
    public static Activity? StartPass(bool dryRun, string trigger) =>
        Source.StartActivity("atc_gc.pass")?
            .SetTag("atc_gc.dry_run", dryRun)
            .SetTag("atc_gc.trigger", trigger);

    /// <summary>A collector's span in a pass, or null when no one listens.</summary>
    public static Activity? StartCollector(string collector) =>
        Source.StartActivity("atc_gc.collector")?.SetTag("atc_gc.collector", collector);

    /// <summary>Puts a collector's figures on its span, and marks it failed or skipped.</summary>
    public static void Finish(Activity? activity, long examined, long changed, string? error, string? skipped)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag("atc_gc.examined", examined).SetTag("atc_gc.changed", changed);
        if (skipped is not null)
        {
            activity.SetTag("atc_gc.skipped", skipped);
        }

        if (error is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, error);
        }
    }
}
