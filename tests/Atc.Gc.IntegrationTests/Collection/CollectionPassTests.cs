using System.Diagnostics.Metrics;
using Atc.Gc.Collection;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Model;
using Atc.Gc.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Atc.Gc.IntegrationTests.Collection;

/// <summary>Whole passes: repeatable, interruptible, shareable between collectors, observable.</summary>
public sealed class CollectionPassTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    private WorkerFleet? fleet;

    private WorkerFleet Fleet => fleet ??= new WorkerFleet(Store, Given);

    public override async Task DisposeAsync()
    {
        if (fleet is not null)
        {
            await fleet.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_finished_build_is_carried_all_the_way_to_the_workers_disk_in_one_pass()
    {
        var worker = await Fleet.AddAsync("w1");
        var build = await Given.BuildAsync();
        var container = (await Store.Containers.CreateAsync("w1", ContainerOwner.Build(build))).Container!;
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "s");
        var cache = (await Store.ResourceCaches.AcquireAsync(config, """{"ref":"1"}""", "p", CacheUser.Build(build))).Cache!;
        var cacheVolume = await Given.VolumeAsync(Lifecycle.VolumeState.Initialized, "w1", new VolumeOwners(ContainerId: container.Id, ResourceCacheId: cache.Id));
        var child = (await Store.Volumes.CreateCopyOnWriteChildAsync(cacheVolume.Id, VolumeOwners.Container(container.Id))).Volume!;
        await Store.Volumes.MarkCreatedAsync(child.Id);
        worker.Hold([cacheVolume.Handle, child.Handle]);
        await Store.Containers.MarkCreatedAsync(container.Id);
        await Store.Builds.FinishAsync(build, BuildStatus.Succeeded);
        await using var harness = new CollectorHarness(DataSource);

        var first = await harness.PassAsync();

        // build released → use deleted → cache deleted → container destroyed → child orphaned and deleted;
        // the parent had a child during marking, so it goes in the next pass.
        Assert.Equal(1, first.Of("builds").Changed);
        Assert.Equal(1, first.Of("resource-cache-uses").Changed);
        Assert.Equal(1, first.Of("resource-caches").Changed);
        Assert.Equal([cacheVolume.Handle], worker.Volumes.Keys);

        await harness.PassAsync();
        Assert.Empty(worker.Volumes);
        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM volumes"));
    }

    [Fact]
    public async Task Repeated_passes_are_idempotent()
    {
        var worker = await Fleet.AddAsync("w1");
        await Fleet.OrphansAsync(worker, 10);
        await using var harness = new CollectorHarness(DataSource);

        var first = await harness.PassAsync();
        var second = await harness.PassAsync();
        var third = await harness.PassAsync();

        Assert.Equal(20, first.Changed);
        Assert.Equal(0, second.Changed);
        Assert.Equal(0, third.Changed);
        Assert.All(worker.DeleteRequests.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task A_dry_run_reports_the_whole_cascade_and_changes_nothing()
    {
        var worker = await Fleet.AddAsync("w1");
        var build = await Given.BuildAsync();
        var container = (await Store.Containers.CreateAsync("w1", ContainerOwner.Build(build))).Container!;
        await Store.Containers.MarkCreatedAsync(container.Id);
        for (var i = 0; i < 3; i++)
        {
            var volume = await Given.VolumeAsync(Lifecycle.VolumeState.Initialized, "w1", VolumeOwners.Container(container.Id));
            worker.Hold([volume.Handle]);
        }

        await Store.Builds.FinishAsync(build, BuildStatus.Succeeded);
        await using var harness = new CollectorHarness(DataSource);
        var before = await SnapshotAsync();

        var report = await harness.PassAsync(dryRun: true);

        Assert.True(report.DryRun);
        Assert.Equal(1, report.Of("builds").Changed);
        Assert.Equal(1, report.Of("containers").Details["deleted"]);
        Assert.Equal(3, report.Of("orphaned-volumes").Changed);
        Assert.Equal(3, report.Of("destroying-volumes").Details["worker:w1"]);
        Assert.Equal(before, await SnapshotAsync());
        Assert.Equal(3, worker.Volumes.Count);
        Assert.Empty(worker.DeleteRequests);
    }

    [Fact]
    public async Task Two_collectors_running_at_once_share_the_work_and_delete_nothing_twice()
    {
        var workers = new[] { await Fleet.AddAsync("w1"), await Fleet.AddAsync("w2"), await Fleet.AddAsync("w3") };
        var orphans = new List<Volume>();
        foreach (var worker in workers)
        {
            orphans.AddRange(await Fleet.OrphansAsync(worker, 150));
        }

        var settings = new Dictionary<string, string?> { ["Collector:BatchSize"] = "20", ["Collector:DeleteBatchSize"] = "10" };
        await using var a = new CollectorHarness(DataSource, settings);
        await using var b = new CollectorHarness(DataSource, settings);

        var reports = await Task.WhenAll(
            Task.Run(async () => (await a.PassAsync(), await a.PassAsync())),
            Task.Run(async () => (await b.PassAsync(), await b.PassAsync())));

        Assert.All(reports, r => Assert.False(r.Item1.Failed || r.Item2.Failed));
        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM volumes"));
        Assert.All(workers, w => Assert.Empty(w.Volumes));
        var requests = workers.SelectMany(w => w.DeleteRequests).ToList();
        Assert.Equal(orphans.Count, requests.Count);
        Assert.All(requests, r => Assert.Equal(1, r.Value));
        Assert.Equal(orphans.Count, reports.Sum(r => r.Item1.Of("orphaned-volumes").Changed + r.Item2.Of("orphaned-volumes").Changed));
    }

    [Fact]
    public async Task A_pass_interrupted_between_marking_and_deleting_is_finished_by_the_next_one()
    {
        var worker = await Fleet.AddAsync("w1");
        await Fleet.OrphansAsync(worker, 5);
        await using (var interrupted = new CollectorHarness(DataSource))
        {
            await interrupted.RunAsync("orphaned-volumes");
        }

        Assert.Equal(5, await Given.ScalarAsync<int>("SELECT count(*) FROM volumes WHERE state = 'destroying'"));
        await using var next = new CollectorHarness(DataSource);

        var report = await next.PassAsync();

        Assert.Equal(5, report.Of("destroying-volumes").Changed);
        Assert.Empty(worker.Volumes);
    }

    [Fact]
    public async Task Claims_of_a_collector_that_died_are_respected_until_they_expire()
    {
        var worker = await Fleet.AddAsync("w1");
        await Fleet.OrphansAsync(worker, 4);
        await using var harness = new CollectorHarness(DataSource);
        await harness.RunAsync("orphaned-volumes");
        await Given.ExecuteAsync("UPDATE volumes SET claimed_by = 'dead-collector', claim_expires_at = now() + interval '1 hour'");

        var whileClaimed = await harness.PassAsync();
        Assert.Equal(0, whileClaimed.Of("destroying-volumes").Examined);
        Assert.Equal(4, worker.Volumes.Count);

        await Given.ExecuteAsync("UPDATE volumes SET claim_expires_at = now() - interval '1 second'");
        var afterExpiry = await harness.PassAsync();
        Assert.Equal(4, afterExpiry.Of("destroying-volumes").Changed);
        Assert.Empty(worker.Volumes);
    }

    [Fact]
    public async Task A_failing_collector_is_reported_the_others_still_run_and_health_degrades_then_fails()
    {
        var worker = await Fleet.AddAsync("w1");
        await Fleet.OrphansAsync(worker, 2);
        await using var harness = new CollectorHarness(
            DataSource,
            configure: services => services.Insert(0, ServiceDescriptor.Singleton<ICollector>(new ThrowingCollector())));
        var health = harness.Get<HealthCheckService>();

        var report = await harness.PassAsync();

        Assert.Equal("broken on purpose", report.Of("always-fails").Error);
        Assert.Equal(2, report.Of("destroying-volumes").Changed);
        Assert.Equal(HealthStatus.Degraded, (await health.CheckHealthAsync()).Status);

        await harness.PassAsync();
        await harness.PassAsync();
        var unhealthy = await health.CheckHealthAsync();
        Assert.Equal(HealthStatus.Unhealthy, unhealthy.Status);
        Assert.Contains("always-fails: broken on purpose", unhealthy.Entries["collector"].Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pass_reports_to_the_collector_meter()
    {
        var worker = await Fleet.AddAsync("metered");
        await Fleet.OrphansAsync(worker, 3);
        await using var harness = new CollectorHarness(DataSource);
        var measurements = new List<(string Instrument, long Value, string? Worker)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == CollectorMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? tagged = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "atc_gc.worker")
                {
                    tagged = tag.Value as string;
                }
            }

            lock (measurements)
            {
                measurements.Add((instrument.Name, value, tagged));
            }
        });
        listener.Start();

        await harness.PassAsync();

        lock (measurements)
        {
            Assert.Contains(("atc_gc.volumes.orphaned", 3L, (string?)null), measurements);
            Assert.Contains(("atc_gc.volumes.destroyed", 3L, "metered"), measurements);
        }
    }

    [Fact]
    public async Task Releasing_an_owner_wakes_the_collector_service_without_waiting_for_the_interval()
    {
        var worker = await Fleet.AddAsync("w1");
        var (container, _) = await Fleet.VolumesAsync(worker, 3);
        await using var harness = new CollectorHarness(
            DataSource,
            new Dictionary<string, string?> { ["Collector:Interval"] = "01:00:00" },
            services => services.AddAtcGcCollectorService());
        var service = harness.Get<IEnumerable<IHostedService>>().OfType<CollectorService>().Single();
        var health = harness.Get<CollectorHealth>();
        await service.StartAsync(CancellationToken.None);
        try
        {
            // The service runs its start-up passes, then sleeps for an hour unless signalled.
            long settled;
            do
            {
                settled = health.Passes;
                await Task.Delay(500);
            }
            while (settled == 0 || health.Passes != settled);

            Assert.Equal(3, worker.Volumes.Count);

            await Given.ReleaseContainerAsync(container);

            // Only a signalled pass can explain the reclaim: the interval is an hour.
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while ((!worker.Volumes.IsEmpty || health.Passes == settled) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }

            Assert.Empty(worker.Volumes);
            Assert.True(health.Passes > settled);
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
        }
    }

    private async Task<string> SnapshotAsync() => string.Join('\n', await Given.QueryAsync<string>(
        """
        SELECT 'b' || id || released_at::text FROM builds
        UNION ALL SELECT 'c' || id || state::text FROM containers
        UNION ALL SELECT 'v' || id || state::text || coalesce(container_id::text, '-') || coalesce(claimed_by, '-') FROM volumes
        ORDER BY 1
        """));

    private sealed class ThrowingCollector : ICollector
    {
        public string Name => "always-fails";

        public Task CollectAsync(CollectionPass pass, CollectorTally tally, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("broken on purpose");
    }
}
