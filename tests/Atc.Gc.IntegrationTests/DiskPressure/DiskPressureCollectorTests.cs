using Atc.Gc.Collection.DiskPressure;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Lifecycle;
using Atc.Gc.Scheduling;

namespace Atc.Gc.IntegrationTests.DiskPressure;

/// <summary>The disk-pressure collector against the database: what it evicts, in which order, and what it never touches.</summary>
public sealed class DiskPressureCollectorTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    private const string Worker = "worker-1";

    private DiskScenario? disk;

    private DiskScenario Disk => disk ??= new(Given, Store);

    [Fact]
    public async Task Above_the_high_watermark_the_least_recently_used_kept_caches_go_until_the_low_watermark_and_nothing_in_use_is_touched()
    {
        await Given.WorkerAsync(Worker);
        var evictable = new List<Volume>();
        for (var minutesAgo = 50; minutesAgo >= 10; minutesAgo -= 10)
        {
            evictable.Add(await Disk.KeptAsync(Worker, 100, TimeSpan.FromMinutes(minutesAgo)));
        }

        var inUse = await InUseAsync(usedAgo: TimeSpan.FromDays(1));
        await Disk.ReportDiskAsync(Worker, capacity: 900); // 500 kept + 400 in use: 100 %
        await using var harness = Harness();

        var report = await harness.RunAsync("disk-pressure");

        // 900 used, low watermark 70 % (630): 270 bytes must go — the three least recently used.
        Assert.Equal(3, report.Changed);
        Assert.Equal(3, report.Details[DiskPressurePlan.HighWatermark]);
        Assert.Equal(300, report.Details["evicted-bytes"]);
        Assert.Equal(new[] { evictable[3].Id, evictable[4].Id }, await Disk.StillCachedAsync(evictable.Select(v => v.Id)));
        Assert.Equal(inUse.Select(v => v.Id).Order(), await Disk.StillCachedOrOwnedAsync(inUse.Select(v => v.Id)));

        // The released volumes are orphans, destroyed like any other; the next pass takes nothing more.
        var orphans = await harness.RunAsync("disk-pressure", "orphaned-volumes");
        Assert.Equal(3, orphans.Changed);
        Assert.Equal(0, (await harness.RunAsync("disk-pressure")).Changed);
    }

    [Fact]
    public async Task Between_the_watermarks_nothing_is_evicted_and_disabled_eviction_evicts_nothing()
    {
        await Given.WorkerAsync(Worker);
        var kept = await Disk.KeptAsync(Worker, 850, TimeSpan.FromDays(10));
        await Disk.ReportDiskAsync(Worker, capacity: 1000); // 85 %: under the high watermark (90)
        await using var harness = Harness();
        await using var disabled = Harness(new() { ["Collector:DiskPressure:Enabled"] = "false" });

        Assert.Equal(0, (await harness.RunAsync("disk-pressure")).Changed);
        await Disk.MeasureAsync(kept.Id, 950, TimeSpan.FromDays(10));
        await Disk.ReportDiskAsync(Worker, capacity: 1000);
        Assert.Equal(0, (await disabled.RunAsync("disk-pressure")).Changed);
        Assert.Single(await Disk.StillCachedAsync([kept.Id]));
    }

    [Fact]
    public async Task A_worker_short_of_its_reserve_or_over_its_kept_cache_limit_is_relieved_by_its_own_override()
    {
        await Given.WorkerAsync("reserved");
        await Given.WorkerAsync("limited");
        var reserved = new[] { await Disk.KeptAsync("reserved", 200, TimeSpan.FromHours(2)), await Disk.KeptAsync("reserved", 200, TimeSpan.FromHours(1)) };
        var limited = new[] { await Disk.KeptAsync("limited", 300, TimeSpan.FromHours(2)), await Disk.KeptAsync("limited", 300, TimeSpan.FromHours(1)) };
        await Disk.ReportDiskAsync("reserved", capacity: 1000); // 40 % used, 600 free
        await Disk.ReportDiskAsync("limited", capacity: 10_000); // 6 % used
        await using var harness = Harness(new()
        {
            ["Collector:DiskPressure:Workers:reserved:ReservedFreeBytes"] = "700",
            ["Collector:DiskPressure:Workers:limited:MaxKeptCacheBytes"] = "400",
        });

        var report = await harness.RunAsync("disk-pressure");

        Assert.Equal(1, report.Details[DiskPressurePlan.ReservedFree]);
        Assert.Equal(1, report.Details[DiskPressurePlan.KeptCacheLimit]);
        Assert.Equal(new[] { reserved[1].Id, limited[1].Id }, await Disk.StillCachedAsync([.. reserved.Select(v => v.Id), .. limited.Select(v => v.Id)]));
    }

    [Fact]
    public async Task Atc_gc_disk_shows_what_the_next_pass_evicts_and_changes_nothing()
    {
        await Given.WorkerAsync(Worker);
        var oldest = await Disk.KeptAsync(Worker, 500, TimeSpan.FromHours(3));
        var newest = await Disk.KeptAsync(Worker, 500, TimeSpan.FromHours(1));
        var inUse = await InUseAsync(usedAgo: TimeSpan.FromDays(1));
        await Disk.ReportDiskAsync(Worker, capacity: 1400); // 1000 kept, 400 in use: full

        var shown = (await new DiskPressureInspector(DataSource).InspectAsync(new DiskPressureOptions(), Worker)).Single();

        Assert.Equal((1400L, 1000L, 400L, DiskPressurePlan.HighWatermark), (shown.UsedBytes, shown.EvictableBytes, shown.InUseBytes, shown.Reason));
        Assert.Equal(new[] { oldest.Id }, shown.WouldEvict.Select(e => e.Id));
        Assert.Equal(2, (await Disk.StillCachedAsync([oldest.Id, newest.Id])).Count);
        await using var harness = Harness(new() { ["Collector:DiskPressure:HighWatermarkPercent"] = "90", ["Collector:DiskPressure:LowWatermarkPercent"] = "80" });
        Assert.Equal(1, (await harness.RunAsync("disk-pressure")).Changed);
        Assert.Equal(new[] { newest.Id }, await Disk.StillCachedAsync([oldest.Id, newest.Id]));
        Assert.Equal(inUse.Count, (await Disk.StillCachedOrOwnedAsync(inUse.Select(v => v.Id))).Count);
    }

    /// <summary>
    /// One volume of each kind eviction must never take, 100 bytes each, last used long ago: owned by a
    /// container; the parent of a child; a cache a pending build uses; a running build's image; initializing.
    /// </summary>
    private async Task<List<Volume>> InUseAsync(TimeSpan usedAgo)
    {
        var build = await Given.BuildAsync();
        var container = await Given.ContainerAsync(Worker, build);
        var owned = await Given.VolumeAsync(VolumeState.Initialized, Worker, new VolumeOwners(ContainerId: container.Id, ResourceCacheId: await Disk.CacheAsync()));
        var parent = await Disk.KeptAsync(Worker, 100, usedAgo);
        var child = (await Store.Volumes.CreateCopyOnWriteChildAsync(parent.Id, VolumeOwners.Container(container.Id))).Volume!;
        var usedCache = await Disk.CacheAsync();
        Assert.True((await Store.ResourceCaches.UseAsync(usedCache, CacheUser.Build(build))).Succeeded);
        var used = await Disk.KeptAsync(Worker, 100, usedAgo, usedCache);
        var imageCache = await Disk.CacheAsync();
        Assert.True((await Store.Builds.SetImageAsync(build, imageCache)).Succeeded);
        var image = await Disk.KeptAsync(Worker, 100, usedAgo, imageCache);
        var initializing = await Disk.KeptAsync(Worker, 50, usedAgo, state: VolumeState.Initializing);
        await Disk.MeasureAsync(owned.Id, 50, usedAgo);
        await Disk.MeasureAsync(child.Id, 0, usedAgo);
        return [owned, parent, child, used, image, initializing];
    }

    private CollectorHarness Harness(Dictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["Collector:DiskPressure:HighWatermarkPercent"] = "90",
            ["Collector:DiskPressure:LowWatermarkPercent"] = "70",
        };
        foreach (var (key, value) in settings ?? [])
        {
            values[key] = value;
        }

        return new CollectorHarness(DataSource, values);
    }
}
