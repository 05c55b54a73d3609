using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Lifecycle;
using Atc.Gc.Scheduling;

namespace Atc.Gc.IntegrationTests.Collection;

/// <summary>
/// One ready volume per cache per worker: a newer one supersedes the older, which is released and
/// collected once nothing else holds it (a copy-on-write child, a container that mounted it).
/// </summary>
public sealed class SupersededVolumeTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task A_newer_volume_of_a_resource_cache_releases_the_older_on_the_same_worker_only()
    {
        await Given.WorkerAsync("w1");
        await Given.WorkerAsync("w2");
        var cache = await CacheAsync();
        var older = await Given.VolumeAsync(VolumeState.Initialized, "w1", VolumeOwners.ResourceCache(cache));
        var elsewhere = await Given.VolumeAsync(VolumeState.Initialized, "w2", VolumeOwners.ResourceCache(cache));

        var newer = await Given.VolumeAsync(VolumeState.Initialized, "w1", VolumeOwners.ResourceCache(cache));

        Assert.Null((await Store.Volumes.FindAsync(older.Id))!.Owners.ResourceCacheId);
        Assert.Equal(cache, (await Store.Volumes.FindAsync(newer.Id))!.Owners.ResourceCacheId);
        Assert.Equal(cache, (await Store.Volumes.FindAsync(elsewhere.Id))!.Owners.ResourceCacheId);
        Assert.Equal(newer.Id, (await Store.Volumes.FindReadyAsync("w1", VolumeOwners.ResourceCache(cache)))!.Id);
    }

    [Fact]
    public async Task A_superseded_parent_stays_while_its_child_lives_and_is_collected_after()
    {
        await Given.WorkerAsync("w1");
        var cache = await CacheAsync();
        var older = await Given.VolumeAsync(VolumeState.Initialized, "w1", VolumeOwners.ResourceCache(cache));
        var container = await Given.ContainerAsync("w1");
        var child = (await Store.Volumes.CreateCopyOnWriteChildAsync(older.Id, VolumeOwners.Container(container.Id))).Volume!;
        await Given.VolumeAsync(VolumeState.Initialized, "w1", VolumeOwners.ResourceCache(cache));
        await using var harness = new CollectorHarness(DataSource);

        await harness.RunAsync("orphaned-volumes");
        Assert.Equal(VolumeState.Initialized, (await Store.Volumes.FindAsync(older.Id))!.State);

        await Given.ReleaseContainerAsync(container.Id);
        await Given.ExecuteAsync("DELETE FROM volumes WHERE id = @Id", new { child.Id });
        await harness.RunAsync("orphaned-volumes");
        Assert.Equal(VolumeState.Destroying, (await Store.Volumes.FindAsync(older.Id))!.State);
    }

    [Fact]
    public async Task A_superseded_task_cache_volume_a_running_build_mounted_stays_until_the_build_is_done()
    {
        await Given.WorkerAsync("w1");
        var job = await Given.JobAsync();
        var taskCache = await Store.TaskCaches.FindOrCreateAsync(job, "compile", "/cache");
        var mounted = await Given.VolumeAsync(VolumeState.Initialized, "w1", VolumeOwners.TaskCache(taskCache));
        var container = await Given.ContainerAsync("w1");
        Assert.Equal(AttachOwnersOutcome.Attached, await Store.Volumes.AttachOwnersAsync(mounted.Id, VolumeOwners.Container(container.Id)));

        var newer = await Given.VolumeAsync(VolumeState.Initialized, "w1", VolumeOwners.TaskCache(taskCache));
        await using var harness = new CollectorHarness(DataSource);
        await harness.RunAsync("orphaned-volumes");

        var kept = (await Store.Volumes.FindAsync(mounted.Id))!;
        Assert.Equal((VolumeState.Initialized, (long?)null, (long?)container.Id), (kept.State, kept.Owners.TaskCacheId, kept.Owners.ContainerId));
        Assert.Equal(newer.Id, (await Store.Volumes.FindReadyAsync("w1", VolumeOwners.TaskCache(taskCache)))!.Id);

        await Given.ReleaseContainerAsync(container.Id);
        await harness.RunAsync("orphaned-volumes");
        Assert.Equal(VolumeState.Destroying, (await Store.Volumes.FindAsync(mounted.Id))!.State);
    }

    [Fact]
    public async Task A_volume_mounted_by_one_container_is_never_taken_by_another()
    {
        await Given.WorkerAsync("w1");
        var job = await Given.JobAsync();
        var taskCache = await Store.TaskCaches.FindOrCreateAsync(job, "compile", "/cache");
        var volume = await Given.VolumeAsync(VolumeState.Initialized, "w1", VolumeOwners.TaskCache(taskCache));
        var first = await Given.ContainerAsync("w1");
        var second = await Given.ContainerAsync("w1");

        var mountedFirst = await Store.Volumes.AttachOwnersAsync(volume.Id, VolumeOwners.Container(first.Id));
        var mountedSecond = await Store.Volumes.AttachOwnersAsync(volume.Id, VolumeOwners.Container(second.Id));

        Assert.Equal((AttachOwnersOutcome.Attached, AttachOwnersOutcome.OwnedByAnother), (mountedFirst, mountedSecond));
        Assert.Equal(first.Id, (await Store.Volumes.FindAsync(volume.Id))!.Owners.ContainerId);
    }

    [Fact]
    public async Task Initializing_many_volumes_of_one_cache_at_once_leaves_one_ready_volume_of_it()
    {
        await Given.WorkerAsync("w1");
        var cache = await CacheAsync();
        var initializing = new List<Volume>();
        for (var i = 0; i < 12; i++)
        {
            initializing.Add(await Given.VolumeAsync(VolumeState.Initializing, "w1", VolumeOwners.ResourceCache(cache)));
        }

        await Task.WhenAll(initializing.Select(v => Task.Run(() => Store.Volumes.MarkInitializedAsync(v.Id))));

        Assert.Equal(1, await Given.ScalarAsync<int>("SELECT count(*) FROM volumes WHERE resource_cache_id = @cache AND state = 'initialized'", new { cache }));
    }

    private async Task<long> CacheAsync()
    {
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "s");
        return (await Store.ResourceCaches.FindOrCreateCacheAsync(config, "{}", "p")).Cache!.Id;
    }
}
