using System.Diagnostics.Metrics;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Lifecycle;
using Atc.Gc.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atc.Gc.IntegrationTests.Telemetry;

/// <summary>The cluster gauges: read from the database in one snapshot, reused until it is <see cref="ClusterGauges.MaxAge"/> old.</summary>
public sealed class ClusterGaugesTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task Every_gauge_reads_one_cached_snapshot_until_it_is_too_old()
    {
        await Given.WorkerAsync("w1");
        await Given.ExecuteAsync("UPDATE workers SET held_unknown = 3, disk_capacity_bytes = 1000, disk_free_bytes = 250, disk_volumes_bytes = 700");
        await Given.DestroyingAsync("w1");
        await Given.VolumeAsync(VolumeState.Created, "w1");
        var clock = new Clock();
        await using var services = new ServiceCollection().AddMetrics().AddLogging().BuildServiceProvider();
        var gauges = new ClusterGauges(DataSource, services.GetRequiredService<IMeterFactory>(), clock, services.GetRequiredService<ILogger<ClusterGauges>>())
        {
            MaxAge = TimeSpan.FromMinutes(1),
        };
        using var listener = Listen(services.GetRequiredService<IMeterFactory>());

        var first = listener.Observe();
        await Given.DestroyingAsync("w1");
        clock.Advance(TimeSpan.FromSeconds(59));
        var cached = listener.Observe();
        clock.Advance(TimeSpan.FromSeconds(2));
        var fresh = listener.Observe();

        Assert.Equal(1, first[("atc_gc.cluster.volumes", "w1|destroying")]);
        Assert.Equal(1, first[("atc_gc.cluster.volumes", "w1|created")]);
        Assert.Equal(3, first[("atc_gc.cluster.volumes.unknown", "w1")]);
        Assert.Equal(1, first[("atc_gc.cluster.workers", "running")]);
        Assert.Equal(0, first[("atc_gc.cluster.workers", "stalled")]);
        Assert.Equal(250, first[("atc_gc.cluster.worker.disk.free", "w1")]);
        Assert.Equal(700, first[("atc_gc.cluster.worker.disk.used", "w1")]);
        Assert.Equal(1, cached[("atc_gc.cluster.volumes", "w1|destroying")]);
        Assert.Equal(2, fresh[("atc_gc.cluster.volumes", "w1|destroying")]);
        Assert.True(fresh[("atc_gc.cluster.destroying.oldest_age", "w1")] >= 61, "the age grows with the clock");
    }

    private static GaugeListener Listen(IMeterFactory factory) => new(factory);

    private sealed class GaugeListener : IDisposable
    {
        private readonly MeterListener listener = new();
        private readonly Dictionary<(string, string), double> values = [];

        public GaugeListener(IMeterFactory factory)
        {
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == ClusterGauges.MeterName && instrument.Meter.Scope == factory)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
            listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
            listener.Start();
        }

        public Dictionary<(string Gauge, string Tags), double> Observe()
        {
            values.Clear();
            listener.RecordObservableInstruments();
            return new(values);
        }

        public void Dispose() => listener.Dispose();

        private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var labels = new List<string>();
            foreach (var tag in tags)
            {
                labels.Add($"{tag.Value}");
            }

            values[(instrument.Name, string.Join('|', labels))] = value;
        }
    }

    private sealed class Clock : TimeProvider
    {
        private DateTimeOffset now = DateTimeOffset.UtcNow;

        public void Advance(TimeSpan by) => now += by;

        public override DateTimeOffset GetUtcNow() => now;
    }
}
