using System.Diagnostics;
using Atc.Gc.Collection;
using Atc.Gc.Collection.DiskPressure;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace Atc.Gc.IntegrationTests.DiskPressure;

/// <summary>
/// A real orchestrator and a real agent with a small <c>Agent:MaxBytes</c>, filled through the
/// scheduler API (<see cref="WorkerVolumes"/>) past the high watermark: one pass after the report
/// that crossed it, the least recently used kept caches are gone from the agent's disk, nothing in use
/// is touched, and the worker settles under its low watermark.
/// </summary>
public sealed class DiskPressureEndToEndTests(PostgresFixture fixture, ITestOutputHelper output) : PostgresTest(fixture)
{
    private const int FileBytes = 64 * 1024;
    private const long MaxBytes = 800_000;

    [Fact]
    public async Task A_full_worker_loses_its_least_recently_used_kept_caches_and_settles_under_the_low_watermark()
    {
        await using var worker = await PressuredWorker.StartAsync(DataSource, Store, MaxBytes, new()
        {
            ["Collector:DiskPressure:HighWatermarkPercent"] = "65",
            ["Collector:DiskPressure:LowWatermarkPercent"] = "45",
        }, quiet: true);
        var (orchestrator, agent, volumes, fetch) = (worker.Orchestrator, worker.Agent, worker.Volumes, worker.Fetch(FileBytes));
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "e2e");
        var resource = await Store.Pipelines.EnsureResourceAsync(await Store.Pipelines.EnsurePipelineAsync("main"), "repo", config);

        // In use: a cache a pending build uses, and a cache a running container mounted (its volume is a child's parent).
        var build = await Given.BuildAsync();
        var container = await Given.ContainerAsync("w1", build);
        var used = await ReadyAsync(volumes, await CacheAsync(config, "used", CacheUser.Build(build)), fetch);
        var mounted = await volumes.MountResourceCacheAsync("w1", await CacheAsync(config, "mounted", CacheUser.Resource(resource)), container.Id, fetch);
        Assert.True(mounted.Succeeded, mounted.Detail);

        // Kept for reuse by a resource, used in this order: b, d, e, f, c, a (a and c used again last).
        var kept = new Dictionary<string, (long Cache, long Volume)>();
        foreach (var name in new[] { "a", "b", "c", "d", "e", "f" })
        {
            var cache = await CacheAsync(config, name, CacheUser.Resource(resource));
            kept[name] = (cache, await ReadyAsync(volumes, cache, fetch));
        }

        await Given.ExecuteAsync("UPDATE volumes SET last_used_at = now() - interval '1 hour' WHERE id = @id", new { id = kept["b"].Volume });
        await ReadyAsync(volumes, kept["c"].Cache, fetch);
        await ReadyAsync(volumes, kept["a"].Cache, fetch);

        var options = orchestrator.Services.GetRequiredService<IOptions<CollectorOptions>>().Value.DiskPressure;
        var inspector = new DiskPressureInspector(DataSource);
        await Eventually.TrueAsync(
            async () => (await inspector.InspectAsync(options, "w1")).Single() is { Reason: not null } w && w.EvictableBytes >= 6 * FileBytes,
            "the agent's reports put the worker above its high watermark, every kept cache measured");
        var crossed = Stopwatch.StartNew();
        var before = (await inspector.InspectAsync(options, "w1")).Single();
        output.WriteLine($"before: {before.UsedBytes} of {before.CapacityBytes} bytes ({before.UsedPercent:F1} %), evictable {before.EvictableBytes}, would evict {string.Join(", ", before.WouldEvict.Select(e => e.Id))}");

        var pass = await orchestrator.Services.GetRequiredService<GarbageCollector>().RunPassAsync(PassRequest.Complete);

        var evicted = kept.Where(k => before.WouldEvict.Any(e => e.Id == k.Value.Volume)).Select(k => k.Key).ToHashSet();
        Assert.Equal(before.WouldEvict.Count, pass.Of("disk-pressure").Changed);
        Assert.Contains("b", evicted);
        Assert.Contains("d", evicted);
        Assert.DoesNotContain("a", evicted);
        Assert.True(LeastRecentlyUsedFirst(evicted), $"evicted {string.Join(",", evicted.Order())}: not the least recently used first");
        foreach (var (name, (_, volume)) in kept)
        {
            Assert.Equal(!evicted.Contains(name), await OnDiskAsync(agent, volume));
        }

        Assert.True(await OnDiskAsync(agent, used));
        Assert.True(await OnDiskAsync(agent, mounted.Volume!.ParentId!.Value));
        Assert.True(await OnDiskAsync(agent, mounted.Volume.Id));

        // The next heartbeats report the space back; the worker is under its low watermark and stays there.
        await Eventually.TrueAsync(
            async () => await Given.ScalarAsync<bool>("SELECT (disk_capacity_bytes - disk_free_bytes) * 100 <= disk_capacity_bytes * 45 FROM workers WHERE name = 'w1'"),
            "the worker reports usage under its low watermark");
        output.WriteLine($"from crossing the watermark to reporting under the low one: {crossed.ElapsedMilliseconds} ms");
        Assert.Equal(0, (await orchestrator.Services.GetRequiredService<GarbageCollector>().RunPassAsync(PassRequest.Complete)).Of("disk-pressure").Changed);
    }

    /// <summary>b, d, e, f, c, a is the order of last use: the evicted must be a prefix of it.</summary>
    private static bool LeastRecentlyUsedFirst(HashSet<string> evicted)
    {
        var order = new[] { "b", "d", "e", "f", "c", "a" };
        return order.Take(evicted.Count).All(evicted.Contains);
    }

    /// <summary>The volume's row is there and the agent holds it.</summary>
    private async Task<bool> OnDiskAsync(AgentInstance agent, long volumeId) =>
        await Store.Volumes.FindAsync(volumeId) is { } volume && agent.Store.List(withSizes: false).Any(v => v.Handle == volume.Handle);

    private async Task<long> CacheAsync(long config, string version, CacheUser user) =>
        (await Store.ResourceCaches.AcquireAsync(config, $$"""{"v":"{{version}}"}""", "p", user)).Cache!.Id;

    private static async Task<long> ReadyAsync(WorkerVolumes volumes, long cache, PopulateVolume fetch)
    {
        var ready = await volumes.FindOrCreateResourceCacheVolumeAsync("w1", cache, fetch);
        Assert.True(ready.Succeeded, ready.Detail);
        return ready.Volume!.Id;
    }
}
