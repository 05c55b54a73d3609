using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Lifecycle;
using Atc.Gc.Model;
using Atc.Gc.Scheduling;

namespace Atc.Gc.IntegrationTests.Collection;

/// <summary>Resource cache uses, resource caches and resource configs: each delete rule and each keep rule.</summary>
public sealed class CacheCollectorTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task Uses_held_by_released_builds_are_deleted_and_uses_of_other_builds_kept()
    {
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "s");
        var released = await Given.BuildAsync();
        var running = await Given.BuildAsync();
        var cache = (await Store.ResourceCaches.AcquireAsync(config, """{"v":"1"}""", "p", CacheUser.Build(released))).Cache!;
        await Store.ResourceCaches.UseAsync(cache.Id, CacheUser.Build(running));
        await Given.ExecuteAsync("UPDATE builds SET status = 'succeeded', released_at = now() WHERE id = @released", new { released });
        await using var harness = new CollectorHarness(DataSource);

        var report = await harness.RunAsync("resource-cache-uses");

        Assert.Equal(1, report.Changed);
        Assert.Equal(running, await Given.ScalarAsync<long>("SELECT build_id FROM resource_cache_uses"));
    }

    [Fact]
    public async Task Uses_on_behalf_of_removed_resources_and_resource_types_are_deleted()
    {
        var pipeline = await Store.Pipelines.EnsurePipelineAsync("p");
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "s");
        var kept = await Store.Pipelines.EnsureResourceAsync(pipeline, "kept", config);
        var removed = await Store.Pipelines.EnsureResourceAsync(pipeline, "removed", config);
        var removedType = await Store.Pipelines.EnsureResourceTypeAsync(pipeline, "custom", config);
        var cache = (await Store.ResourceCaches.AcquireAsync(config, """{"v":"1"}""", "p", CacheUser.Resource(kept))).Cache!;
        await Store.ResourceCaches.UseAsync(cache.Id, CacheUser.Resource(removed));
        await Store.ResourceCaches.UseAsync(cache.Id, CacheUser.ResourceType(removedType));
        await Given.ExecuteAsync("UPDATE resources SET active = false WHERE id = @removed", new { removed });
        await Given.ExecuteAsync("UPDATE resource_types SET active = false WHERE id = @removedType", new { removedType });
        await using var harness = new CollectorHarness(DataSource);

        var report = await harness.RunAsync("resource-cache-uses");

        Assert.Equal(2, report.Changed);
        Assert.Equal(kept, await Given.ScalarAsync<long>("SELECT resource_id FROM resource_cache_uses"));
    }

    [Fact]
    public async Task A_cache_with_no_uses_is_deleted_and_its_volumes_are_orphaned()
    {
        await Given.WorkerAsync();
        var cache = await CacheAsync();
        var volume = await Given.VolumeAsync(VolumeState.Initialized, owners: VolumeOwners.ResourceCache(cache));
        await using var harness = new CollectorHarness(DataSource);

        var report = await harness.RunAsync("resource-caches");

        Assert.Equal(1, report.Changed);
        Assert.Null((await Store.Volumes.FindAsync(volume.Id))!.Owners.ResourceCacheId);
    }

    [Fact]
    public async Task A_cache_with_a_use_is_kept()
    {
        var build = await Given.BuildAsync();
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "s");
        await Store.ResourceCaches.AcquireAsync(config, """{"v":"1"}""", "p", CacheUser.Build(build));
        await using var harness = new CollectorHarness(DataSource);

        Assert.Equal(0, (await harness.RunAsync("resource-caches")).Changed);
    }

    [Fact]
    public async Task A_next_build_input_keeps_its_cache_only_while_the_pipeline_is_unpaused()
    {
        var pipeline = await Store.Pipelines.EnsurePipelineAsync("p");
        var job = await Store.Pipelines.EnsureJobAsync(pipeline, "j");
        var cache = await CacheAsync();
        await Store.Pipelines.SetNextBuildInputAsync(job, "repo", cache);
        await using var harness = new CollectorHarness(DataSource);

        Assert.Equal(0, (await harness.RunAsync("resource-caches")).Changed);

        await Store.Pipelines.SetPipelinePausedAsync(pipeline, paused: true);
        Assert.Equal(1, (await harness.RunAsync("resource-caches")).Changed);
        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM next_build_inputs"));
    }

    [Fact]
    public async Task A_next_build_input_of_a_removed_job_does_not_keep_its_cache()
    {
        var pipeline = await Store.Pipelines.EnsurePipelineAsync("p");
        var job = await Store.Pipelines.EnsureJobAsync(pipeline, "j");
        var cache = await CacheAsync();
        await Store.Pipelines.SetNextBuildInputAsync(job, "repo", cache);
        await Store.Pipelines.DeactivateJobAsync(job);
        await using var harness = new CollectorHarness(DataSource);

        Assert.Equal(1, (await harness.RunAsync("resource-caches")).Changed);
    }

    [Fact]
    public async Task A_jobs_image_is_kept_until_a_later_build_of_the_job_succeeds()
    {
        var job = await Given.JobAsync();
        var first = await Store.Builds.CreateAsync(job);
        var firstImage = await CacheAsync("""{"digest":"a"}""");
        await Store.Builds.SetImageAsync(first, firstImage);
        await using var harness = new CollectorHarness(DataSource);

        // Running, then finished (failed) with no later build: kept, so the next build need not fetch it again.
        await harness.RunAsync("resource-caches");
        await Store.Builds.FinishAsync(first, BuildStatus.Failed);
        await harness.RunAsync("resource-caches");
        Assert.Equal([firstImage], await CacheIdsAsync());

        // A later build that fails does not release it; one that succeeds does (and its own image is kept).
        var second = await Store.Builds.CreateAsync(job);
        var secondImage = await CacheAsync("""{"digest":"b"}""");
        await Store.Builds.SetImageAsync(second, secondImage);
        await Store.Builds.FinishAsync(second, BuildStatus.Errored);
        await harness.RunAsync("resource-caches");
        Assert.Equal([firstImage, secondImage], await CacheIdsAsync());

        var third = await Store.Builds.CreateAsync(job);
        await Store.Builds.FinishAsync(third, BuildStatus.Succeeded);
        await harness.RunAsync("resource-caches");
        Assert.Empty(await CacheIdsAsync());
        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM image_resource_versions"));
    }

    [Fact]
    public async Task A_one_off_builds_image_is_kept_for_its_grace_after_the_build_ends()
    {
        var build = await Store.Builds.CreateAsync(jobId: null);
        var image = await CacheAsync("""{"digest":"c"}""");
        await Store.Builds.SetImageAsync(build, image);
        await Store.Builds.FinishAsync(build, BuildStatus.Succeeded);
        await using var harness = new CollectorHarness(DataSource);

        await harness.RunAsync("resource-caches");
        Assert.Equal([image], await CacheIdsAsync());

        await Given.ExecuteAsync("UPDATE builds SET ended_at = now() - interval '25 hours' WHERE id = @build", new { build });
        await harness.RunAsync("resource-caches");
        Assert.Empty(await CacheIdsAsync());
    }

    [Fact]
    public async Task A_use_of_a_config_or_cache_the_collector_deleted_is_a_typed_result_not_an_exception()
    {
        var build = await Given.BuildAsync();
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("registry-image", "nothing-points-at-it");
        var cache = (await Store.ResourceCaches.FindOrCreateCacheAsync(config, """{"digest":"a"}""", "p")).Cache!;
        await using var harness = new CollectorHarness(DataSource, new Dictionary<string, string?> { ["Collector:ResourceConfigGrace"] = "00:00:00" });
        await Given.ExecuteAsync("UPDATE resource_configs SET last_referenced_at = now() - interval '1 hour'");
        await harness.RunAsync("resource-caches");
        await harness.RunAsync("resource-configs");

        var acquired = await Store.ResourceCaches.AcquireAsync(config, """{"digest":"b"}""", "p", CacheUser.Build(build));
        var used = await Store.ResourceCaches.UseAsync(cache.Id, CacheUser.Build(build));

        Assert.Equal(CacheOutcome.ConfigGone, acquired.Outcome);
        Assert.Equal(CacheOutcome.CacheGone, used.Outcome);
        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM resource_cache_uses"));
    }

    [Fact]
    public async Task A_pin_on_a_cache_the_collector_deleted_is_refused_as_a_typed_result()
    {
        var job = await Given.JobAsync();
        var build = await Given.BuildAsync();
        var cache = await CacheAsync();
        await using var harness = new CollectorHarness(DataSource);
        await harness.RunAsync("resource-caches");

        var input = await Store.Pipelines.SetNextBuildInputAsync(job, "repo", cache);
        var image = await Store.Builds.SetImageAsync(build, cache);

        Assert.Equal(PinOutcome.CacheGone, input.Outcome);
        Assert.Equal(PinOutcome.CacheGone, image.Outcome);
    }

    [Fact]
    public async Task The_cache_behind_a_custom_resource_type_config_is_kept_until_the_config_goes()
    {
        var image = await CacheAsync();
        var customConfig = await Store.ResourceCaches.FindOrCreateCustomConfigAsync(image, "resource-source");
        await using var harness = new CollectorHarness(DataSource, new Dictionary<string, string?> { ["Collector:ResourceConfigGrace"] = "00:00:00" });

        Assert.Equal(0, (await harness.RunAsync("resource-caches")).Changed);

        await harness.RunAsync("resource-configs");
        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM resource_configs WHERE id = @customConfig", new { customConfig }));
        Assert.Equal(1, (await harness.RunAsync("resource-caches")).Changed);
    }

    [Fact]
    public async Task An_unreferenced_config_is_deleted_only_after_its_grace()
    {
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "s");
        await using var harness = new CollectorHarness(DataSource);

        Assert.Equal(0, (await harness.RunAsync("resource-configs")).Changed);

        await Given.ExecuteAsync("UPDATE resource_configs SET last_referenced_at = now() - interval '1 hour'");
        Assert.Equal(1, (await harness.RunAsync("resource-configs")).Changed);
        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM resource_configs WHERE id = @config", new { config }));
    }

    [Fact]
    public async Task A_config_an_active_resource_points_at_or_a_cache_belongs_to_is_kept()
    {
        var pipeline = await Store.Pipelines.EnsurePipelineAsync("p");
        var ofResource = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "resource");
        var ofRemovedResource = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "removed");
        var withCache = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "cached");
        await Store.Pipelines.EnsureResourceAsync(pipeline, "repo", ofResource);
        var removed = await Store.Pipelines.EnsureResourceAsync(pipeline, "old", ofRemovedResource);
        await Given.ExecuteAsync("UPDATE resources SET active = false WHERE id = @removed", new { removed });
        await Store.ResourceCaches.FindOrCreateCacheAsync(withCache, "{}", "p");
        await Given.ExecuteAsync("UPDATE resource_configs SET last_referenced_at = now() - interval '1 hour'");
        await using var harness = new CollectorHarness(DataSource);

        await harness.RunAsync("resource-configs");

        Assert.Equal(
            [ofResource, withCache],
            (await Given.QueryAsync<long>("SELECT id FROM resource_configs ORDER BY id")).ToArray());
    }

    private async Task<long> CacheAsync(string version = """{"v":"1"}""")
    {
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "s");
        return (await Store.ResourceCaches.FindOrCreateCacheAsync(config, version, "p")).Cache!.Id;
    }

    private async Task<long[]> CacheIdsAsync() => [.. await Given.QueryAsync<long>("SELECT id FROM resource_caches ORDER BY id")];
}
