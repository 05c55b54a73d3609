using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Scheduling;

namespace Atc.Gc.IntegrationTests.Safety;

/// <summary>
/// A resource pointed at a config, or a check container placed on one, while the resource-configs
/// collector runs keeps the config: nothing is silently detached (the references are ON DELETE SET
/// NULL). The window is made wide with 100,000 unreferenced configs scanned in one chunk; the one
/// referenced is the last.
/// </summary>
public sealed class ConfigDuringPassTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    private const int Configs = 100_000;

    [Fact]
    public async Task A_resource_pointed_at_a_config_while_a_pass_runs_keeps_it()
    {
        var pipeline = await Store.Pipelines.EnsurePipelineAsync("main");
        var last = await FillConfigsAsync();
        await using var harness = Harness();

        var pass = harness.RunAsync("resource-configs");
        await RaceWindow.WaitForStatementAsync(DataSource, "FROM resource_configs rc");
        var resource = await Store.Pipelines.EnsureResourceAsync(pipeline, "repo", last);
        await pass;

        Assert.Equal(last, await Given.ScalarAsync<long?>("SELECT resource_config_id FROM resources WHERE id = @resource", new { resource }));
        Assert.Equal(1, await Given.ScalarAsync<int>("SELECT count(*) FROM resource_configs"));
    }

    [Fact]
    public async Task A_check_container_placed_on_a_config_while_a_pass_runs_keeps_it_and_its_container()
    {
        await Given.WorkerAsync();
        var last = await FillConfigsAsync();
        await using var harness = Harness();

        var pass = harness.RunAsync("resource-configs");
        await RaceWindow.WaitForStatementAsync(DataSource, "FROM resource_configs rc");
        var container = (await Store.Containers.CreateAsync("worker-1", ContainerOwner.Check(last))).Container!;
        await pass;

        Assert.Equal(last, (await Store.Containers.FindAsync(container.Id))!.ResourceConfigId);
        Assert.Equal(1, await Given.ScalarAsync<int>("SELECT count(*) FROM resource_configs"));
    }

    private CollectorHarness Harness() => new(DataSource, new Dictionary<string, string?>
    {
        ["Collector:BatchSize"] = $"{Configs}",
        ["Collector:ResourceConfigGrace"] = "00:00:00",
    });

    /// <summary>Configs nothing references, last referenced an hour ago; returns the id of the last.</summary>
    private async Task<long> FillConfigsAsync()
    {
        await Given.ExecuteAsync("INSERT INTO base_resource_types (name) VALUES ('git')");
        await Given.ExecuteAsync(
            """
            INSERT INTO resource_configs (base_resource_type_id, source_hash, last_referenced_at)
            SELECT (SELECT id FROM base_resource_types), md5(g::text), now() - interval '1 hour' FROM generate_series(1, @count) g
            """, new { count = Configs });
        await Given.ExecuteAsync("ANALYZE resource_configs");
        return await Given.ScalarAsync<long>("SELECT max(id) FROM resource_configs");
    }
}
