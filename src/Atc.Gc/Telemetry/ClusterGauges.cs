using System.Diagnostics.Metrics;
using Atc.Gc.Lifecycle;
using Atc.Gc.Model;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Atc.Gc.Telemetry;

/// <summary>
/// The cluster as the database holds it, on the meter <see cref="MeterName"/>: volumes by worker and
/// state, missing and unknown volumes, the destroying backlog's oldest volume, workers by state,
/// each worker's disk, each collector's last run. Every gauge reads one cached
/// <see cref="ClusterSnapshot"/>, read again at most every <see cref="MaxAge"/> (one round trip
/// for all the gauges, however often they are scraped). Created with the host, so the gauges exist
/// from the first scrape.
/// </summary>
public sealed class ClusterGauges : IHostedService
{
    public const string MeterName = "Atc.Gc.Cluster";

    private readonly NpgsqlDataSource dataSource;
    private readonly TimeProvider timeProvider;
    private readonly ILogger<ClusterGauges> logger;
    private readonly Lock sync = new();
    private ClusterSnapshot snapshot = ClusterSnapshot.Empty;
    private DateTimeOffset? readAt;

    public ClusterGauges(NpgsqlDataSource dataSource, IMeterFactory meterFactory, TimeProvider timeProvider, ILogger<ClusterGauges> logger)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        this.dataSource = dataSource;
        this.timeProvider = timeProvider;
        this.logger = logger;
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge("atc_gc.cluster.volumes", () => Current().Volumes.Select(g =>
            new Measurement<long>(g.Volumes, Worker(g.Worker), State(g.State))), "{volume}", "Volumes by worker and state");
        meter.CreateObservableGauge("atc_gc.cluster.volumes.missing", () => PerWorker(Current().Volumes, g => g.Missing),
            "{volume}", "Volumes their worker no longer reports (missing_since set), by worker");
        meter.CreateObservableGauge("atc_gc.cluster.destroying.oldest_age", DestroyingAges,
            "s", "Age of the oldest destroying volume (since it became destroying), by worker; absent when none is destroying");
        meter.CreateObservableGauge("atc_gc.cluster.volumes.unknown", () => Current().Workers.Select(w =>
            new Measurement<long>(w.HeldUnknown, Worker(w.Worker))), "{volume}", "Unknown volumes a held worker reported and that are kept, by worker");
        meter.CreateObservableGauge("atc_gc.cluster.workers", WorkersByState, "{worker}", "Workers by state");
        meter.CreateObservableGauge("atc_gc.cluster.worker.disk.used", () => Disk(w => w.DiskVolumesBytes),
            "By", "Bytes the worker's volumes take on its disk, as it last reported");
        meter.CreateObservableGauge("atc_gc.cluster.worker.disk.capacity", () => Disk(w => w.DiskCapacityBytes),
            "By", "Capacity for volumes on the worker's disk, as it last reported");
        meter.CreateObservableGauge("atc_gc.cluster.worker.disk.free", () => Disk(w => w.DiskFreeBytes),
            "By", "Free space for volumes on the worker's disk, as it last reported");
        meter.CreateObservableGauge("atc_gc.cluster.collector.last_success", LastSuccesses,
            "s", "When the collector's last run in the cluster ended (Unix time), if it succeeded");
        meter.CreateObservableGauge("atc_gc.cluster.collector.failing", () => Current().Collectors.Select(c =>
            new Measurement<long>(c.Failing ? 1 : 0, Collector(c.Collector))), "{boolean}", "1 when the collector's last run in the cluster failed");
    }

    /// <summary>How long a snapshot serves the gauges before it is read again.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromSeconds(15);

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The snapshot the gauges report: the cached one, or a new one when it is older than <see cref="MaxAge"/>.</summary>
    public ClusterSnapshot Current()
    {
        lock (sync)
        {
            var now = timeProvider.GetUtcNow();
            if (readAt is { } at && now - at < MaxAge)
            {
                return snapshot;
            }

            readAt = now;
            try
            {
                snapshot = ClusterSnapshot.Read(dataSource);
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                // The last snapshot stays; the next read is tried after MaxAge (not on every gauge).
                logger.LogWarning(ex, "Reading the cluster gauges from the database failed; they show the last snapshot");
            }

            return snapshot;
        }
    }

    private static KeyValuePair<string, object?> Worker(string worker) => new("atc_gc.worker", worker);

    private static KeyValuePair<string, object?> State(string state) => new("atc_gc.state", state);

    private static KeyValuePair<string, object?> Collector(string collector) => new("atc_gc.collector", collector);

    private static IEnumerable<Measurement<long>> PerWorker(IEnumerable<VolumeGroup> groups, Func<VolumeGroup, long> value) =>
        groups.GroupBy(g => g.Worker, StringComparer.Ordinal).Select(w => new Measurement<long>(w.Sum(value), Worker(w.Key)));

    private IEnumerable<Measurement<double>> DestroyingAges()
    {
        var now = timeProvider.GetUtcNow().UtcDateTime;
        return Current().Volumes
            .Where(g => g.State == VolumeState.Destroying.ToDb())
            .Select(g => new Measurement<double>(Math.Max(0, (now - g.OldestChange).TotalSeconds), Worker(g.Worker)));
    }

    private IEnumerable<Measurement<long>> WorkersByState()
    {
        var workers = Current().Workers;
        return WorkerStates.Labels.Labels.Select(label =>
            new Measurement<long>(workers.Count(w => w.State == label), State(label)));
    }

    private IEnumerable<Measurement<long>> Disk(Func<WorkerFigures, long?> bytes) =>
        Current().Workers.Where(w => bytes(w) is not null).Select(w => new Measurement<long>(bytes(w)!.Value, Worker(w.Worker)));

    private IEnumerable<Measurement<double>> LastSuccesses() =>
        Current().Collectors.Where(c => !c.Failing && c.LastFinishedAt is not null).Select(c => new Measurement<double>(
            new DateTimeOffset(DateTime.SpecifyKind(c.LastFinishedAt!.Value, DateTimeKind.Utc)).ToUnixTimeMilliseconds() / 1000.0,
            Collector(c.Collector)));
}
