using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Operations;
using Atc.Gc.Scheduling;

namespace Atc.Gc.IntegrationTests.Safety;

/// <summary>
/// An operator clearing a resource's caches while a running build starts using one of them: the
/// build's cache is kept and named, whatever the interleaving. The window is made wide with 100,000
/// versions of the resource; the build uses the last one.
/// </summary>
public sealed class ClearDuringUseTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    private const int Versions = 100_000;

    [Fact]
    public async Task A_cache_a_running_build_starts_using_during_the_clear_is_kept_and_named()
    {
        var pipeline = await Store.Pipelines.EnsurePipelineAsync("main");
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "repo-source");
        await Store.Pipelines.EnsureResourceAsync(pipeline, "repo", config);
        await Given.ExecuteAsync(
            """
            INSERT INTO resource_caches (resource_config_id, version, version_digest, params_hash)
            SELECT @config, jsonb_build_object('v', g::text),
                   encode(sha256(convert_to(jsonb_build_object('v', g::text)::text, 'UTF8')), 'hex'), 'p'
            FROM generate_series(1, @count) g
            """, new { config, count = Versions });
        await Given.ExecuteAsync("ANALYZE resource_caches");
        var build = await Given.BuildAsync();
        await Store.Builds.StartAsync(build);

        var clear = new CacheInvalidation(DataSource).ClearResourceCacheAsync("main", "repo");
        await RaceWindow.WaitForStatementAsync(DataSource, "FROM resource_caches c");
        var used = (await Store.ResourceCaches.AcquireAsync(config, $$"""{"v":"{{Versions}}"}""", "p", CacheUser.Build(build))).Cache!;
        var result = await clear;

        Assert.Equal(1, await Given.ScalarAsync<int>("SELECT count(*) FROM resource_caches WHERE id = @Id", new { used.Id }));
        Assert.Equal(1, await Given.ScalarAsync<int>("SELECT count(*) FROM resource_cache_uses WHERE resource_cache_id = @Id AND build_id = @build", new { used.Id, build }));
        Assert.Contains(result.Kept, k => k.CacheId == used.Id && k.Reason.Contains($"running build {build}", StringComparison.Ordinal));
    }
}
