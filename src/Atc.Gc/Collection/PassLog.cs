using Microsoft.Extensions.Logging;

namespace Atc.Gc.Collection;

/// <summary>
/// What a pass logs, as structured fields a log pipeline can filter and sum: the pass's totals, and
/// one entry per collector with its own figures, at the pass's level (warning when a collector
/// failed, information when something changed, debug otherwise).
/// </summary>
internal static partial class PassLog
{
    [LoggerMessage(EventId = 1001, Message =
        "Collection pass ended in {DurationSeconds} s (dry run: {DryRun}): changed {Changed} of {Examined} rows examined; {FailedCollectors} collectors failed, {SkippedCollectors} skipped")]
    public static partial void PassEnded(
        ILogger logger, LogLevel level, double durationSeconds, bool dryRun, long changed, long examined, int failedCollectors, int skippedCollectors);

    [LoggerMessage(EventId = 1002, Message =
        "Collector {Collector}: {Outcome}, changed {Changed} of {Examined} rows examined in {DurationSeconds} s (dry run: {DryRun})")]
    public static partial void CollectorEnded(
        ILogger logger, LogLevel level, string collector, string outcome, long changed, long examined, double durationSeconds, bool dryRun);

    /// <summary>Logs the pass and each of its collectors.</summary>
    public static void Write(ILogger logger, PassReport report)
    {
        var level = report.Failed ? LogLevel.Warning : report.Changed > 0 ? LogLevel.Information : LogLevel.Debug;
        if (!logger.IsEnabled(level))
        {
            return;
        }

        foreach (var collector in report.Collectors)
        {
            CollectorEnded(logger, level, collector.Collector, Outcome(collector), collector.Changed, collector.Examined, collector.Duration.TotalSeconds, report.DryRun);
        }

        PassEnded(
            logger,
            level,
            report.Duration.TotalSeconds,
            report.DryRun,
            report.Changed,
            report.Collectors.Sum(c => c.Examined),
            report.Collectors.Count(c => c.Failed),
            report.Collectors.Count(c => c.Skipped is not null));
    }

    private static string Outcome(CollectorReport report) =>
        report.Failed ? "failed" : report.Skipped is not null ? "skipped" : "ran";
}
