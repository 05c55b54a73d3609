using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Scheduling;

namespace Atc.Gc.IntegrationTests.Safety;

/// <summary>
/// A cache pinned (next build input, build image) while the resource-caches collector runs is kept,
/// or the pin is refused; it never succeeds and then vanishes with its cache. The window is made wide
/// with 100,000 caches nobody needs scanned in one chunk; the cache pinned is the last one scanned.
/// </summary>
public sealed class PinDuringPassTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    private const int Caches = 100_000;

    [Fact]
    public async Task A_next_build_input_set_while_a_pass_runs_keeps_its_cache()
    {
        var job = await Given.JobAsync();
        var last = await FillCachesAsync();
        await using var harness = new CollectorHarness(DataSource, new Dictionary<string, string?> { ["Collector:BatchSize"] = $"{Caches}" });

        var pass = harness.RunAsync("resource-caches");
        await RaceWindow.WaitForStatementAsync(DataSource, "FROM resource_caches");
        var pinned = await Store.Pipelines.SetNextBuildInputAsync(job, "repo", last);
        await pass;

        await AssertKeptOrRefusedAsync(pinned, "next_build_inputs", last);
    }

    [Fact]
    public async Task The_image_of_a_running_build_set_while_a_pass_runs_keeps_its_cache()
    {
        var build = await Given.BuildAsync();
        var last = await FillCachesAsync();
        await using var harness = new CollectorHarness(DataSource, new Dictionary<string, string?> { ["Collector:BatchSize"] = $"{Caches}" });

        var pass = harness.RunAsync("resource-caches");
        await RaceWindow.WaitForStatementAsync(DataSource, "FROM resource_caches");
        var pinned = await Store.Builds.SetImageAsync(build, last);
        await pass;

        await AssertKeptOrRefusedAsync(pinned, "image_resource_versions", last);
    }

    /// <summary>A pin that succeeded holds its cache; one that did not says the cache is gone, and it is.</summary>
    private async Task AssertKeptOrRefusedAsync(PinResult pinned, string pins, long cache)
    {
        var pinRows = await Given.ScalarAsync<int>($"SELECT count(*) FROM {pins} WHERE resource_cache_id = @cache", new { cache });
        var cacheRows = await Given.ScalarAsync<int>("SELECT count(*) FROM resource_caches WHERE id = @cache", new { cache });
        if (pinned.Succeeded)
        {
            Assert.Equal((1, 1), (pinRows, cacheRows));
        }
        else
        {
            Assert.Equal(PinOutcome.CacheGone, pinned.Outcome);
            Assert.Equal((0, 0), (pinRows, cacheRows));
        }

        // Every other cache was nothing's: the pass deleted them.
        Assert.Equal(cacheRows, await Given.ScalarAsync<int>("SELECT count(*) FROM resource_caches"));
    }

    /// <summary>Caches of one config that nothing keeps; returns the id of the last.</summary>
    private async Task<long> FillCachesAsync()
    {
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "many");
        await Given.ExecuteAsync(
            """
            INSERT INTO resource_caches (resource_config_id, version, version_digest, params_hash)
            SELECT @config, jsonb_build_object('v', g), md5(g::text), 'p' FROM generate_series(1, @count) g
            """, new { config, count = Caches });
        await Given.ExecuteAsync("ANALYZE resource_caches");
        return await Given.ScalarAsync<long>("SELECT max(id) FROM resource_caches");
    }
}
