using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Lifecycle;
using Atc.Gc.Scheduling;
using Microsoft.Extensions.DependencyInjection;

namespace Atc.Gc.IntegrationTests.Scheduling;

/// <summary>The scheduler's volume operations, against the real database and real agents on loopback.</summary>
public sealed class WorkerVolumesTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    private readonly List<IAsyncDisposable> disposables = [];

    [Fact]
    public async Task A_build_mounts_its_input_as_a_child_of_the_cache_volume_which_the_next_build_reuses()
    {
        var (volumes, agent) = await StartAsync();
        var cache = await CacheAsync();
        var populated = 0;
        PopulateVolume fetch = async (volume, _, ct) =>
        {
            Interlocked.Increment(ref populated);
            await File.WriteAllTextAsync(Path.Combine(agent.Store.DataPathOf(volume.Handle), "repo.txt"), "v1", ct);
        };

        var first = await volumes.MountResourceCacheAsync(agent.Name, cache, (await Given.ContainerAsync(agent.Name)).Id, fetch);
        var second = await volumes.MountResourceCacheAsync(agent.Name, cache, (await Given.ContainerAsync(agent.Name)).Id, fetch);

        Assert.True(first.Succeeded, first.Detail);
        Assert.True(second.Succeeded, second.Detail);
        Assert.Equal(1, populated);
        Assert.Equal(first.Volume!.ParentId, second.Volume!.ParentId);
        Assert.Equal(VolumeState.Initialized, first.Volume.State);
        Assert.Equal("v1", await File.ReadAllTextAsync(Path.Combine(agent.Store.DataPathOf(second.Volume.Handle), "repo.txt")));
    }

    [Fact]
    public async Task A_parent_that_is_being_destroyed_is_replaced_and_the_child_made_of_the_new_one()
    {
        var (volumes, agent) = await StartAsync();
        var cache = await CacheAsync();
        var parent = await volumes.FindOrCreateResourceCacheVolumeAsync(agent.Name, cache, (_, _, _) => Task.CompletedTask);
        await Given.ExecuteAsync("UPDATE volumes SET resource_cache_id = NULL, container_id = NULL WHERE id = @Id", new { parent.Volume!.Id });
        Assert.Equal(TransitionOutcome.Applied, (await Store.Volumes.DestroyAsync(parent.Volume.Id)).Outcome);

        var child = await volumes.MountResourceCacheAsync(agent.Name, cache, (await Given.ContainerAsync(agent.Name)).Id, (_, _, _) => Task.CompletedTask);

        Assert.True(child.Succeeded, child.Detail);
        Assert.NotEqual(parent.Volume.Id, child.Volume!.ParentId);
    }

    [Fact]
    public async Task A_task_cache_volume_is_mounted_by_one_container_at_a_time_and_a_second_build_gets_a_new_one()
    {
        var (volumes, agent) = await StartAsync();
        var taskCache = await Store.TaskCaches.FindOrCreateAsync(await Given.JobAsync(), "compile", "/cache");
        var first = await Given.ContainerAsync(agent.Name);
        var second = await Given.ContainerAsync(agent.Name);

        var mountedFirst = await volumes.MountTaskCacheAsync(agent.Name, taskCache, first.Id);
        var mountedSecond = await volumes.MountTaskCacheAsync(agent.Name, taskCache, second.Id);

        Assert.True(mountedFirst.Succeeded && mountedSecond.Succeeded);
        Assert.NotEqual(mountedFirst.Volume!.Id, mountedSecond.Volume!.Id);
        var older = (await Store.Volumes.FindAsync(mountedFirst.Volume.Id))!;
        Assert.Equal((first.Id, (long?)null), (older.Owners.ContainerId!.Value, older.Owners.TaskCacheId)); // superseded, still mounted
        Assert.Equal(taskCache, (await Store.Volumes.FindAsync(mountedSecond.Volume.Id))!.Owners.TaskCacheId);
    }

    [Fact]
    public async Task A_population_that_throws_leaves_a_failed_row_and_says_why()
    {
        var (volumes, agent) = await StartAsync();
        var cache = await CacheAsync();

        var result = await volumes.FindOrCreateResourceCacheVolumeAsync(agent.Name, cache, (_, _, _) => throw new IOException("fetch failed: 502"));

        Assert.Equal(ReadyVolumeOutcome.PopulateFailed, result.Outcome);
        Assert.Contains("502", result.Detail, StringComparison.Ordinal);
        Assert.Equal("failed", await Given.ScalarAsync<string>("SELECT state::text FROM volumes"));
    }

    [Fact]
    public async Task A_worker_that_cannot_be_reached_leaves_a_failed_row_not_a_stuck_one()
    {
        var (volumes, agent) = await StartAsync();
        await Given.ExecuteAsync("UPDATE workers SET base_url = 'http://127.0.0.1:1/'");

        var result = await volumes.CreateOutputVolumeAsync(agent.Name, (await Given.ContainerAsync(agent.Name)).Id);

        Assert.Equal(ReadyVolumeOutcome.WorkerUnavailable, result.Outcome);
        Assert.Equal("failed", await Given.ScalarAsync<string>("SELECT state::text FROM volumes"));
    }

    public override async Task DisposeAsync()
    {
        foreach (var disposable in Enumerable.Reverse(disposables))
        {
            await disposable.DisposeAsync();
        }
    }

    private async Task<(WorkerVolumes Volumes, AgentInstance Agent)> StartAsync()
    {
        var agent = await AgentInstance.StartAsync("w1");
        disposables.Add(agent);
        await Store.Workers.RegisterAsync(new WorkerRegistration("w1", agent.BaseUrl, []));
        var provider = DiskPressure.SchedulerVolumes.Provider(DataSource);
        disposables.Add(provider);
        return (provider.GetRequiredService<WorkerVolumes>(), agent);
    }

    private async Task<long> CacheAsync()
    {
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "s");
        return (await Store.ResourceCaches.FindOrCreateCacheAsync(config, """{"ref":"a"}""", "p")).Cache!.Id;
    }
}
