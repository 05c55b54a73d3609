using System.Net;
using System.Net.Http.Json;
using Atc.Gc.Collection;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Lifecycle;
using Atc.Gc.Scheduling;
using Atc.Gc.Workers;
using Microsoft.Extensions.DependencyInjection;

namespace Atc.Gc.IntegrationTests.Server;

/// <summary>A real orchestrator and real agents (directories on disk) talking over loopback HTTP.</summary>
public sealed class AgentEndToEndTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task An_orphan_is_deleted_from_the_agents_disk_by_the_orchestrators_collector()
    {
        await using var orchestrator = await OrchestratorInstance.StartAsync(DataSource);
        await using var agent = await AgentInstance.StartAsync("w1", orchestrator: orchestrator.BaseUrl);
        await Eventually.TrueAsync(async () => await Store.Workers.FindAsync("w1") is not null, "the agent registered");
        var (container, volumes) = await Given.VolumesOnAgentAsync(agent, 3);

        await Given.ReleaseContainerAsync(container);

        await Eventually.TrueAsync(() => agent.Store.List(withSizes: false).Count == 0, "the agent holds no volume");
        await Eventually.TrueAsync(async () => await Given.ScalarAsync<int>("SELECT count(*) FROM volumes") == 0, "no volume row is left");
        Assert.All(volumes, v => Assert.False(Directory.Exists(agent.Store.DataPathOf(v.Handle))));
    }

    [Fact]
    public async Task A_pruned_worker_that_comes_back_with_its_new_token_is_held_until_adopted_then_its_leftovers_are_destroyed()
    {
        await using var orchestrator = await OrchestratorInstance.StartAsync(DataSource);
        await using var agent = await AgentInstance.StartAsync("w1", orchestrator: orchestrator.BaseUrl);
        await Eventually.TrueAsync(async () => await Store.Workers.FindAsync("w1") is not null, "the agent registered");
        await Given.VolumesOnAgentAsync(agent, 4);
        await Given.ExecuteAsync("UPDATE workers SET state = 'stalled'");

        var pruned = await Store.Workers.PruneAsync("w1");

        // Its token is revoked: the agent keeps heartbeating and is refused.
        Assert.True(pruned.Pruned);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.Null(await Store.Workers.FindAsync("w1"));

        // Given its new token, it registers again and reports four volumes this database forgot.
        await agent.RestartAsync(token: orchestrator.TokenOf("w1"));
        await Eventually.TrueAsync(async () => (await Store.Workers.FindAsync("w1"))?.Hold is not null, "the worker is held");
        Assert.Equal("unknown", (await Store.Workers.FindAsync("w1"))!.Hold!.Kind);
        Assert.Equal(4, agent.Store.List(withSizes: false).Count);

        // An operator confirms: the next report destroys them.
        Assert.True(await Store.Workers.AdoptAsync("w1"));
        await Eventually.TrueAsync(() => agent.Store.List(withSizes: false).Count == 0, "the agent holds no volume");
        Assert.Null((await Store.Workers.FindAsync("w1"))!.Hold);
    }

    [Fact]
    public async Task A_volume_the_agent_lost_is_kept_while_owned_and_forgotten_after_enough_reports_once_released()
    {
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource, new Dictionary<string, string?> { ["Collector:MissingReports"] = "2" });
        await using var agent = await AgentInstance.StartAsync("w1", orchestrator: orchestrator.BaseUrl);
        await Eventually.TrueAsync(async () => await Store.Workers.FindAsync("w1") is not null, "the agent registered");
        var (_, volumes) = await Given.VolumesOnAgentAsync(agent, 2);
        var collector = orchestrator.Services.GetRequiredService<GarbageCollector>();

        Directory.Delete(Path.GetDirectoryName(agent.Store.DataPathOf(volumes[0].Handle))!, recursive: true);

        await Eventually.TrueAsync(
            async () => await Given.ScalarAsync<int>("SELECT missing_reports FROM volumes WHERE id = @Id", new { volumes[0].Id }) >= 2,
            "two reports listed after the mark did not list the lost volume");
        await collector.RunPassAsync(new PassRequest(Only: ["missing-volumes"]));
        Assert.NotNull(await Store.Volumes.FindAsync(volumes[0].Id)); // still owned by its container

        await Given.ExecuteAsync("UPDATE volumes SET container_id = NULL WHERE id = @Id", new { volumes[0].Id });
        await collector.RunPassAsync(new PassRequest(Only: ["missing-volumes"]));
        Assert.Null(await Store.Volumes.FindAsync(volumes[0].Id));
        Assert.NotNull(await Store.Volumes.FindAsync(volumes[1].Id));
        Assert.Null((await Store.Volumes.FindAsync(volumes[1].Id))!.MissingSince);
    }

    [Fact]
    public async Task A_delete_interrupted_by_an_agent_restart_is_finished_and_confirmed()
    {
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource);
        await using var agent = await AgentInstance.StartAsync("w1", orchestrator: orchestrator.BaseUrl);
        await Eventually.TrueAsync(async () => await Store.Workers.FindAsync("w1") is not null, "the agent registered");
        var (_, volumes) = await Given.VolumesOnAgentAsync(agent, 2);
        var collector = orchestrator.Services.GetRequiredService<GarbageCollector>();
        await Given.ExecuteAsync("UPDATE volumes SET container_id = NULL WHERE id = @Id", new { volumes[0].Id });
        await collector.RunPassAsync(new PassRequest(Only: ["orphaned-volumes"]));

        // The agent crashes after moving the volume out of the listing, before removing its files.
        var volumeDirectory = Path.GetDirectoryName(agent.Store.DataPathOf(volumes[0].Handle))!;
        Directory.Move(volumeDirectory, Path.Combine(agent.Root, "dead", volumes[0].Handle + ".crash"));
        await agent.RestartAsync();

        await collector.RunPassAsync(PassRequest.Complete);

        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(agent.Root, "dead")));
        Assert.Null(await Store.Volumes.FindAsync(volumes[0].Id));
        Assert.NotNull(await Store.Volumes.FindAsync(volumes[1].Id));
        Assert.True(Directory.Exists(agent.Store.DataPathOf(volumes[1].Handle)));
    }
}
