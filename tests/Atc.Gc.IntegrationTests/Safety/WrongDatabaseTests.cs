using System.Net;
using System.Net.Http.Json;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Migrations;
using Atc.Gc.Scheduling;
using Atc.Gc.Workers;
using Npgsql;

namespace Atc.Gc.IntegrationTests.Safety;

/// <summary>
/// An agent whose orchestrator is suddenly on another (empty) database, or whose report says that
/// most of its volumes are unknown, destroys nothing until an operator confirms.
/// </summary>
public sealed class WrongDatabaseTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task An_agent_registering_with_another_database_destroys_none_of_its_volumes()
    {
        IReadOnlyList<Volume> volumes;
        AgentInstance agent;
        await using (var original = await OrchestratorInstance.StartAsync(DataSource))
        {
            agent = await AgentInstance.StartAsync("w1", orchestrator: original.BaseUrl);
            await Eventually.TrueAsync(async () => await Store.Workers.FindAsync("w1") is not null, "the agent registered");
            volumes = (await Given.VolumesOnAgentAsync(agent, 3)).Volumes;
            await Eventually.TrueAsync(async () => await ReportsSeenAsync(DataSource) > 0, "the agent reported");
        }

        await using var empty = NpgsqlDataSource.Create(await Fixture.CreateScratchDatabaseAsync("wrongdb"));
        await DatabaseMigrator.MigrateAsync(empty.ConnectionString);
        await using var other = await OrchestratorInstance.StartAsync(empty);
        await using (agent)
        {
            await agent.RestartAsync(other.BaseUrl);
            await Eventually.TrueAsync(async () => await new WorkerRepository(empty).FindAsync("w1") is not null, "the agent registered with the other database");
            await Task.Delay(TimeSpan.FromSeconds(3)); // several report intervals

            Assert.All(volumes, v => Assert.True(Directory.Exists(agent.Store.DataPathOf(v.Handle)), $"{v.Handle} is still on disk"));
        }
    }

    [Fact]
    public async Task A_report_in_which_most_volumes_are_unknown_destroys_nothing()
    {
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource);
        await using var agent = await AgentInstance.StartAsync("w1", orchestrator: orchestrator.BaseUrl);
        await Eventually.TrueAsync(async () => await Store.Workers.FindAsync("w1") is not null, "the agent registered");
        var (_, volumes) = await Given.VolumesOnAgentAsync(agent, 10);

        // The database lost most of them (a restore from an older backup, say).
        await Given.ExecuteAsync("DELETE FROM volumes WHERE id = ANY(@ids)", new { ids = volumes.Skip(2).Select(v => v.Id).ToArray() });
        await Task.Delay(TimeSpan.FromSeconds(3)); // several report intervals

        Assert.All(volumes, v => Assert.True(Directory.Exists(agent.Store.DataPathOf(v.Handle)), $"{v.Handle} is still on disk"));
    }

    private static async Task<long> ReportsSeenAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM workers WHERE heartbeat_at > registered_at");
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
