using System.Diagnostics.Metrics;
using Atc.Gc.Collection.DiskPressure;
using Atc.Gc.Telemetry;

namespace Atc.Gc.Collection;

/// <summary>
/// The collector's instruments, on the meter <see cref="MeterName"/> (OpenTelemetry-style names;
/// collect them with any <c>System.Diagnostics.Metrics</c> listener or OpenTelemetry exporter).
/// </summary>
public sealed class CollectorMetrics
{
    public const string MeterName = "Atc.Gc.Collector";

    private readonly Histogram<double> passDuration;
    private readonly Histogram<double> collectorDuration;
    private readonly Counter<long> collectorExamined;
    private readonly Counter<long> collectorChanged;
    private readonly Counter<long> collectorFailures;
    private readonly Counter<long> orphansMarked;
    private readonly Counter<long> failedDiscarded;
    private readonly Counter<long> volumesDestroyed;
    private readonly Counter<long> workerDeleteFailures;
    private readonly Counter<long> unknownHeld;
    private readonly Counter<long> collectorSkipped;
    private readonly Counter<long> evictedBytes;
    private readonly Counter<long> evictions;
    private long workersUnderPressure;

    public CollectorMetrics(IMeterFactory meterFactory, CollectorHealth health)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(health);
        var meter = meterFactory.Create(MeterName);
        collectorSkipped = meter.CreateCounter<long>(
            "atc_gc.collector.skipped", "{run}", "Collector runs left to another node (running there, or ran there since the interval or signal)");
        meter.CreateObservableGauge(
            "atc_gc.collection.paused", () => health.Paused is null ? 0 : 1, "{boolean}", "1 while an operator has paused collection (atc-gc gc pause)");
        meter.CreateObservableGauge(
            "atc_gc.pass.last_success", () => health.LastSuccessfulPassAt?.ToUnixTimeMilliseconds() / 1000.0 ?? 0, "s",
            "When this node's last successful pass ended (Unix time; 0 before the first)");
        passDuration = meter.CreateSecondsHistogram("atc_gc.pass.duration", "Duration of a collection pass");
        collectorDuration = meter.CreateSecondsHistogram("atc_gc.collector.duration", "Duration of one collector in a pass");
        collectorExamined = meter.CreateCounter<long>("atc_gc.collector.examined", "{row}", "Rows a collector examined");
        collectorChanged = meter.CreateCounter<long>("atc_gc.collector.changed", "{row}", "Rows a collector changed");
        collectorFailures = meter.CreateCounter<long>("atc_gc.collector.failures", "{failure}", "Collector runs that failed (retried next pass)");
        orphansMarked = meter.CreateCounter<long>("atc_gc.volumes.orphaned", "{volume}", "Orphaned volumes found and marked destroying");
        failedDiscarded = meter.CreateCounter<long>("atc_gc.volumes.discarded", "{volume}", "Failed volumes marked destroying whatever their owners");
        volumesDestroyed = meter.CreateCounter<long>("atc_gc.volumes.destroyed", "{volume}", "Volumes deleted from workers and the database");
        workerDeleteFailures = meter.CreateCounter<long>("atc_gc.worker.delete_failures", "{volume}", "Volumes a worker failed to delete");
        evictedBytes = meter.CreateCounter<long>(
            "atc_gc.disk.evicted_bytes", "By", "Bytes of kept caches nobody used that disk-pressure eviction released");
        evictions = meter.CreateCounter<long>(
            "atc_gc.disk.evictions", "{volume}", "Volumes disk-pressure eviction released, by reason and kind of cache");
        meter.CreateObservableGauge(
            "atc_gc.disk.workers_above_watermark", () => Interlocked.Read(ref workersUnderPressure), "{worker}",
            "Workers under disk pressure at the last pass (above the high watermark, short of the reserve, or over the kept-cache limit)");
        unknownHeld = meter.CreateCounter<long>(
            "atc_gc.reports.unknown_held", "{volume}", "Unknown volumes a held worker reported and that were kept, not destroyed");
    }

    public void PassCompleted(TimeSpan duration) => passDuration.Record(duration.TotalSeconds);

    public void CollectorCompleted(CollectorReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var tag = new KeyValuePair<string, object?>("atc_gc.collector", report.Collector);
        collectorDuration.Record(report.Duration.TotalSeconds, tag);
        collectorExamined.Add(report.Examined, tag);
        collectorChanged.Add(report.Changed, tag);
        if (report.Failed)
        {
            collectorFailures.Add(1, tag);
        }
    }

    public void OrphansMarked(long count) => orphansMarked.Add(count);

    public void CollectorSkipped(string collector) =>
        collectorSkipped.Add(1, new KeyValuePair<string, object?>("atc_gc.collector", collector));

    public void FailedDiscarded(long count) => failedDiscarded.Add(count);

    public void VolumesDestroyed(string worker, long count) =>
        volumesDestroyed.Add(count, new KeyValuePair<string, object?>("atc_gc.worker", worker));

    public void UnknownVolumesHeld(string worker, long count) =>
        unknownHeld.Add(count, new KeyValuePair<string, object?>("atc_gc.worker", worker));

    public void WorkerDeleteFailures(string worker, long count) =>
        workerDeleteFailures.Add(count, new KeyValuePair<string, object?>("atc_gc.worker", worker));

    /// <summary>What one pass of disk-pressure eviction found and did.</summary>
    public void DiskPressure(long workersUnderPressureNow, IEnumerable<Eviction> evicted)
    {
        ArgumentNullException.ThrowIfNull(evicted);
        Interlocked.Exchange(ref workersUnderPressure, workersUnderPressureNow);
        foreach (var eviction in evicted)
        {
            var worker = new KeyValuePair<string, object?>("atc_gc.worker", eviction.WorkerName);
            var reason = new KeyValuePair<string, object?>("atc_gc.reason", eviction.Reason);
            evictedBytes.Add(eviction.SizeBytes, worker, reason);
            evictions.Add(1, reason, new KeyValuePair<string, object?>("atc_gc.cache_kind", eviction.Kind));
        }
    }
}
