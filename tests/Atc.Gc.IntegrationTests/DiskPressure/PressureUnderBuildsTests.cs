using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Model;
using Atc.Gc.Scheduling;
using Xunit.Abstractions;

namespace Atc.Gc.IntegrationTests.DiskPressure;

/// <summary>
/// Seeded builds on a real agent whose disk stays under pressure, with the orchestrator collecting
/// in the background every 200 ms: builds mount a cache (a copy-on-write child of its volume) and
/// their task cache, commits make new cache versions that a resource keeps. A watch checks, many times
/// a second, that every volume a running build holds is on the agent's disk and not on its way out;
/// kept caches are evicted meanwhile.
/// </summary>
public sealed class PressureUnderBuildsTests(PostgresFixture fixture, ITestOutputHelper output) : PostgresTest(fixture)
{
    private const int Steps = 80;

    [Fact]
    public async Task Under_pressure_with_builds_running_no_volume_in_use_is_evicted()
    {
        await using var worker = await PressuredWorker.StartAsync(DataSource, Store, maxBytes: 2_000_000, new()
        {
            ["Collector:Interval"] = "00:00:00.200",
            ["Collector:MaxShareOfTime"] = "1",
            ["Collector:DiskPressure:HighWatermarkPercent"] = "30",
            ["Collector:DiskPressure:LowWatermarkPercent"] = "15",
        }, quiet: false);
        var (agent, volumes) = (worker.Agent, worker.Volumes);
        using var watch = new HeldVolumeWatch(Store, agent);
        using var watching = new CancellationTokenSource();
        var watcher = watch.RunAsync(watching.Token);

        var random = new Random(15);
        var job = await Given.JobAsync();
        var pipeline = await Store.Pipelines.EnsurePipelineAsync("main");
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "pressure");
        var resource = await Store.Pipelines.EnsureResourceAsync(pipeline, "repo", config);
        var taskCache = await Store.TaskCaches.FindOrCreateAsync(job, "compile", "/cache");
        var fetch = worker.Fetch(32 * 1024);
        var running = new List<(long Build, IReadOnlyList<string> Held)>();
        var commit = 1;
        var started = 0;
        for (var step = 0; step < Steps; step++)
        {
            var roll = random.NextDouble();
            if (roll < 0.3)
            {
                // A commit: a new version, fetched and kept by the resource (kept for reuse, evictable).
                var cache = (await Store.ResourceCaches.AcquireAsync(config, $$"""{"ref":"{{++commit}}"}""", "p", CacheUser.Resource(resource))).Cache!.Id;
                await volumes.FindOrCreateResourceCacheVolumeAsync("w1", cache, fetch);
            }
            else if (roll < 0.7 || running.Count == 0)
            {
                var build = await Store.Builds.CreateAsync(job);
                await Store.Builds.StartAsync(build);
                var container = (await Store.Containers.CreateAsync("w1", ContainerOwner.Build(build))).Container!.Id;
                var version = random.Next(Math.Max(1, commit - 3), commit + 1);
                var cache = (await Store.ResourceCaches.AcquireAsync(config, $$"""{"ref":"{{version}}"}""", "p", CacheUser.Build(build))).Cache!.Id;
                var input = await volumes.MountResourceCacheAsync("w1", cache, container, fetch);
                var mounted = await volumes.MountTaskCacheAsync("w1", taskCache, container, fetch);
                if (!input.Succeeded || !mounted.Succeeded)
                {
                    output.WriteLine($"step {step}: not set up: {input.Outcome} {input.Detail}; {mounted.Outcome} {mounted.Detail}");
                }
                else
                {
                    var parent = (await Store.Volumes.FindAsync(input.Volume!.ParentId!.Value))!;
                    IReadOnlyList<string> held = [input.Volume.Handle, parent.Handle, mounted.Volume!.Handle];
                    watch.Hold(held);
                    running.Add((build, held));
                    started++;
                }
            }
            else
            {
                var finished = running[random.Next(running.Count)];
                running.Remove(finished);
                watch.Release(finished.Held);
                await Store.Builds.FinishAsync(finished.Build, BuildStatus.Succeeded);
            }

            await Task.Delay(random.Next(20, 120));
        }

        await Task.Delay(TimeSpan.FromSeconds(1));
        await watching.CancelAsync();
        await watcher;

        var evictedVersions = await Given.ScalarAsync<int>(
            """
            SELECT count(*) FROM resource_caches c
            WHERE EXISTS (SELECT 1 FROM resource_cache_uses u WHERE u.resource_cache_id = c.id AND u.resource_id IS NOT NULL)
              AND NOT EXISTS (SELECT 1 FROM volumes v WHERE v.resource_cache_id = c.id)
            """);
        output.WriteLine($"{started} builds set up, {commit - 1} commits, {watch.Checks} checks, {evictedVersions} kept versions evicted");
        Assert.True(watch.Violations.Count == 0, string.Join('\n', watch.Violations.Take(20)));
        Assert.True(watch.Checks > 50, $"the watch ran {watch.Checks} checks");
        Assert.True(evictedVersions > 0, "the disk was never under pressure: nothing was evicted");
        Assert.True(started > 10, $"only {started} builds were set up");
    }
}
