using System.Net;
using System.Net.Http.Json;
using Atc.Gc.Lifecycle;
using Atc.Gc.Model;
using Atc.Gc.Scheduling;
using Atc.Gc.Workers;
using Dapper;
using Npgsql;

namespace Atc.Gc.IntegrationTests.Infrastructure;

/// <summary>Builds the rows a test starts from, through the scheduler API wherever the API can.</summary>
public sealed class Scenario(AtcGcStore store, NpgsqlDataSource dataSource)
{
    public async Task<string> WorkerAsync(string name = "worker-1", params BaseResourceTypeVersion[] types)
    {
        await store.Workers.RegisterAsync(new WorkerRegistration(name, new Uri("http://127.0.0.1:7788"), types));
        return name;
    }

    public async Task<long> JobAsync(string pipeline = "main", string job = "unit")
    {
        var pipelineId = await store.Pipelines.EnsurePipelineAsync(pipeline);
        return await store.Pipelines.EnsureJobAsync(pipelineId, job);
    }

    public async Task<long> BuildAsync(long? jobId = null) => await store.Builds.CreateAsync(jobId ?? await JobAsync());

    public async Task<Container> ContainerAsync(string worker = "worker-1", long? buildId = null) =>
        (await store.Containers.CreateAsync(worker, ContainerOwner.Build(buildId ?? await BuildAsync()))).Container!;

    /// <summary>A volume owned by a new container, brought to <paramref name="state"/> through the lifecycle.</summary>
    public async Task<Volume> VolumeAsync(VolumeState state, string worker = "worker-1", VolumeOwners? owners = null)
    {
        owners ??= VolumeOwners.Container((await ContainerAsync(worker)).Id);
        var created = await store.Volumes.CreateAsync(worker, owners);
        Assert.True(created.Succeeded, created.ToString());
        var volume = created.Volume!;
        foreach (var trigger in PathTo(state))
        {
            var result = await store.Volumes.TransitionAsync(volume.Id, trigger);
            Assert.Equal(TransitionOutcome.Applied, result.Outcome);
        }

        return (await store.Volumes.FindAsync(volume.Id))!;
    }

    /// <summary>A volume in <paramref name="state"/> with no owner: for destroying it, it must be an orphan.</summary>
    public async Task<Volume> OrphanAsync(VolumeState state, string worker = "worker-1")
    {
        var volume = await VolumeAsync(state, worker);
        await ReleaseContainerAsync(volume.Owners.ContainerId!.Value);
        return (await store.Volumes.FindAsync(volume.Id))!;
    }

    /// <summary>An orphan that the lifecycle has moved to destroying.</summary>
    public async Task<Volume> DestroyingAsync(string worker = "worker-1")
    {
        var orphan = await OrphanAsync(VolumeState.Initialized, worker);
        Assert.Equal(TransitionOutcome.Applied, (await store.Volumes.DestroyAsync(orphan.Id)).Outcome);
        return (await store.Volumes.FindAsync(orphan.Id))!;
    }

    /// <summary>
    /// Ready volumes on a real agent, owned by one new container, made the way a scheduler makes them:
    /// a row, then the directory on the agent, then the marks.
    /// </summary>
    public async Task<(long ContainerId, IReadOnlyList<Volume> Volumes)> VolumesOnAgentAsync(AgentInstance agent, int count)
    {
        var container = await ContainerAsync(agent.Name);
        var volumes = new List<Volume>();
        using var client = agent.Client();
        for (var i = 0; i < count; i++)
        {
            var volume = (await store.Volumes.CreateAsync(agent.Name, VolumeOwners.Container(container.Id))).Volume!;
            var response = await client.PostAsJsonAsync("volumes", new CreateVolumeRequest(volume.Handle));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            foreach (var trigger in PathTo(VolumeState.Initialized))
            {
                Assert.True((await store.Volumes.TransitionAsync(volume.Id, trigger)).Succeeded);
            }

            volumes.Add(volume);
        }

        return (container.Id, volumes);
    }

    /// <summary>Deletes a container row: its volumes' container_id becomes NULL.</summary>
    public Task ReleaseContainerAsync(long containerId) => ExecuteAsync("DELETE FROM containers WHERE id = @containerId", new { containerId });

    public async Task<int> ExecuteAsync(string sql, object? parameters = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await connection.ExecuteAsync(sql, parameters);
    }

    public async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return (await connection.QueryAsync<T>(sql, parameters)).AsList();
    }

    public async Task<T> ScalarAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return (await connection.ExecuteScalarAsync<T>(sql, parameters))!;
    }

    /// <summary>The triggers that take a new (creating) volume to <paramref name="state"/>.</summary>
    public static IReadOnlyList<VolumeTrigger> PathTo(VolumeState state) => state switch
    {
        VolumeState.Creating => [],
        VolumeState.Created => [VolumeTrigger.MarkCreated],
        VolumeState.Initializing => [VolumeTrigger.MarkCreated, VolumeTrigger.StartInitializing],
        VolumeState.Initialized => [VolumeTrigger.MarkCreated, VolumeTrigger.StartInitializing, VolumeTrigger.MarkInitialized],
        VolumeState.Failed => [VolumeTrigger.Fail],
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "reach it with OrphanAsync and Destroy"),
    };
}
