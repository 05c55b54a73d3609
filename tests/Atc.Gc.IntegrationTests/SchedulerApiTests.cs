using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Lifecycle;
using Atc.Gc.Model;
using Atc.Gc.Scheduling;

namespace Atc.Gc.IntegrationTests;

/// <summary>The in-process API the CI scheduler calls.</summary>
public sealed class SchedulerApiTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task Registering_a_worker_records_it_running_with_its_base_resource_types()
    {
        var types = (await Store.Workers.RegisterAsync(new WorkerRegistration(
            "w1", new Uri("http://127.0.0.1:7788/"), [new("git", "git-image", "1.2"), new("s3", "s3-image", "3")]))).ResourceTypes;

        var worker = await Store.Workers.FindAsync("w1");
        Assert.Equal(WorkerState.Running, worker!.State);
        Assert.Equal(new Uri("http://127.0.0.1:7788/"), worker.BaseUrl);
        Assert.Equal(["git", "s3"], types.Select(t => t.Name));
        Assert.Equal("1.2", types[0].Version);
    }

    [Fact]
    public async Task A_worker_dropping_a_base_resource_type_orphans_its_volumes()
    {
        var types = (await Store.Workers.RegisterAsync(new WorkerRegistration("w1", null, [new("git", "i", "1"), new("s3", "i", "1")]))).ResourceTypes;
        var s3Volume = await Given.VolumeAsync(VolumeState.Initialized, "w1", VolumeOwners.BaseResourceType(types.Single(t => t.Name == "s3").Id));

        var after = (await Store.Workers.RegisterAsync(new WorkerRegistration("w1", null, [new("git", "i", "1")]))).ResourceTypes;

        Assert.Equal(["git"], after.Select(t => t.Name));
        Assert.False((await Store.Volumes.FindAsync(s3Volume.Id))!.Owners.Any);
    }

    [Fact]
    public async Task A_stalled_worker_that_heartbeats_is_running_again()
    {
        await Given.WorkerAsync("w1");
        await Given.ExecuteAsync("UPDATE workers SET state = 'stalled' WHERE name = 'w1'");

        Assert.True(await Store.Workers.HeartbeatAsync("w1"));
        Assert.False(await Store.Workers.HeartbeatAsync("nobody"));
        Assert.Equal(WorkerState.Running, (await Store.Workers.FindAsync("w1"))!.State);
    }

    [Fact]
    public async Task A_heartbeat_leaves_a_landed_worker_landed_and_a_new_registration_brings_it_back()
    {
        await Given.WorkerAsync("w1");
        await Given.ExecuteAsync("UPDATE workers SET state = 'landed'");

        await Store.Workers.RegisterAsync(new WorkerRegistration("w1", null, [], IsHeartbeat: true));
        Assert.Equal(WorkerState.Landed, (await Store.Workers.FindAsync("w1"))!.State);

        await Store.Workers.RegisterAsync(new WorkerRegistration("w1", null, [], IsHeartbeat: false));
        Assert.Equal(WorkerState.Running, (await Store.Workers.FindAsync("w1"))!.State);
    }

    [Theory]
    [InlineData("")]
    [InlineData("../etc")]
    [InlineData("has space")]
    public async Task A_bad_worker_name_is_refused_before_anything_is_written(string name)
    {
        await Assert.ThrowsAsync<ArgumentException>(() =>
            Store.Workers.RegisterAsync(new WorkerRegistration(name, null, [])));

        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM workers"));
    }

    [Fact]
    public async Task The_same_version_with_keys_in_another_order_is_the_same_cache()
    {
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "source");

        var first = (await Store.ResourceCaches.FindOrCreateCacheAsync(config, """{"ref":"abc","branch":"main"}""", "p")).Cache!;
        var second = (await Store.ResourceCaches.FindOrCreateCacheAsync(config, """{ "branch": "main", "ref": "abc" }""", "p")).Cache!;
        var other = (await Store.ResourceCaches.FindOrCreateCacheAsync(config, """{"ref":"def","branch":"main"}""", "p")).Cache!;

        Assert.Equal(first.Id, second.Id);
        Assert.Equal(first.VersionDigest, second.VersionDigest);
        Assert.NotEqual(first.Id, other.Id);
        Assert.Equal(64, first.VersionDigest.Length);
    }

    [Fact]
    public async Task Acquiring_a_cache_for_a_build_records_the_use_in_the_same_statement()
    {
        var build = await Given.BuildAsync();
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "source");

        var cache = (await Store.ResourceCaches.AcquireAsync(config, """{"ref":"abc"}""", "p", CacheUser.Build(build))).Cache!;
        var again = (await Store.ResourceCaches.AcquireAsync(config, """{"ref":"abc"}""", "p", CacheUser.Build(build))).Cache!;

        Assert.Equal(cache.Id, again.Id);
        Assert.Equal(2, await Given.ScalarAsync<int>(
            "SELECT count(*) FROM resource_cache_uses WHERE resource_cache_id = @Id AND build_id = @build", new { cache.Id, build }));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("{\"ref\":")]
    public async Task A_malformed_version_is_refused_and_nothing_is_written(string version)
    {
        var build = await Given.BuildAsync();
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "source");

        await Assert.ThrowsAsync<ArgumentException>(() =>
            Store.ResourceCaches.AcquireAsync(config, version, "p", CacheUser.Build(build)));

        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM resource_caches"));
        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM resource_cache_uses"));
    }

    [Fact]
    public async Task A_resource_config_for_a_base_type_is_found_again_not_duplicated()
    {
        var first = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "source");
        var second = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "source");
        var other = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "other-source");

        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public async Task Finishing_a_build_completes_it_once()
    {
        var build = await Given.BuildAsync();
        Assert.True(await Store.Builds.StartAsync(build));

        Assert.True(await Store.Builds.FinishAsync(build, BuildStatus.Failed));
        Assert.False(await Store.Builds.FinishAsync(build, BuildStatus.Succeeded));
        Assert.True(await Given.ScalarAsync<bool>("SELECT completed FROM builds WHERE id = @build", new { build }));
        Assert.Equal("failed", await Given.ScalarAsync<string>("SELECT status::text FROM builds WHERE id = @build", new { build }));
    }

    [Fact]
    public async Task A_build_cannot_be_finished_with_a_status_that_is_not_terminal()
    {
        var build = await Given.BuildAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => Store.Builds.FinishAsync(build, BuildStatus.Started));
    }

    [Fact]
    public async Task A_task_cache_is_found_again_and_its_last_use_refreshed()
    {
        var job = await Given.JobAsync();
        var first = await Store.TaskCaches.FindOrCreateAsync(job, "compile", "/root/.m2", TimeSpan.FromHours(2));
        await Given.ExecuteAsync("UPDATE task_caches SET last_used = now() - interval '1 day'");

        var second = await Store.TaskCaches.FindOrCreateAsync(job, "compile", "/root/.m2", TimeSpan.FromHours(2));

        Assert.Equal(first, second);
        Assert.True(await Given.ScalarAsync<bool>("SELECT last_used > now() - interval '1 minute' AND ttl = interval '2 hours' FROM task_caches"));
    }

    [Fact]
    public async Task A_volume_for_an_unknown_worker_or_a_vanished_owner_comes_back_as_a_typed_result()
    {
        await Given.WorkerAsync();
        var container = await Given.ContainerAsync();

        var unknownWorker = await Store.Volumes.CreateAsync("ghost", VolumeOwners.Container(container.Id));
        var vanishedOwner = await Store.Volumes.CreateAsync("worker-1", VolumeOwners.Container(container.Id + 1000));

        Assert.Equal(CreateVolumeOutcome.UnknownWorker, unknownWorker.Outcome);
        Assert.Equal(CreateVolumeOutcome.OwnerGone, vanishedOwner.Outcome);
        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM volumes"));
    }

    [Fact]
    public async Task A_volume_without_any_owner_is_refused()
    {
        await Given.WorkerAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => Store.Volumes.CreateAsync("worker-1", VolumeOwners.None));
    }

    [Fact]
    public async Task A_taken_handle_comes_back_as_a_typed_result()
    {
        await Given.WorkerAsync();
        var container = await Given.ContainerAsync();
        await Store.Volumes.CreateAsync("worker-1", VolumeOwners.Container(container.Id), "fixed-handle");

        var again = await Store.Volumes.CreateAsync("worker-1", VolumeOwners.Container(container.Id), "fixed-handle");

        Assert.Equal(CreateVolumeOutcome.HandleTaken, again.Outcome);
    }

    [Fact]
    public async Task A_copy_on_write_child_lives_on_its_parents_worker()
    {
        await Given.WorkerAsync("w2");
        var parent = await Given.VolumeAsync(VolumeState.Initialized, "w2");
        var container = await Given.ContainerAsync("w2");

        var child = await Store.Volumes.CreateCopyOnWriteChildAsync(parent.Id, VolumeOwners.Container(container.Id));

        Assert.True(child.Succeeded);
        Assert.Equal("w2", child.Volume!.WorkerName);
        Assert.Equal(parent.Id, child.Volume.ParentId);
        Assert.Equal(VolumeState.Creating, child.Volume.State);
    }

    [Fact]
    public async Task A_child_of_a_missing_parent_is_not_found()
    {
        await Given.WorkerAsync();
        var container = await Given.ContainerAsync();

        var child = await Store.Volumes.CreateCopyOnWriteChildAsync(987654, VolumeOwners.Container(container.Id));

        Assert.Equal(CreateVolumeOutcome.ParentNotFound, child.Outcome);
    }

    [Fact]
    public async Task Owners_can_be_attached_to_a_live_volume_but_not_to_one_being_destroyed()
    {
        await Given.WorkerAsync();
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "s");
        var cache = (await Store.ResourceCaches.FindOrCreateCacheAsync(config, "{}", "p")).Cache!;
        var live = await Given.VolumeAsync(VolumeState.Initialized);
        var doomed = await Given.DestroyingAsync();

        Assert.Equal(AttachOwnersOutcome.Attached, await Store.Volumes.AttachOwnersAsync(live.Id, VolumeOwners.ResourceCache(cache.Id)));
        Assert.Equal(AttachOwnersOutcome.Destroying, await Store.Volumes.AttachOwnersAsync(doomed.Id, VolumeOwners.ResourceCache(cache.Id)));
        Assert.Equal(AttachOwnersOutcome.OwnerGone, await Store.Volumes.AttachOwnersAsync(live.Id, VolumeOwners.TaskCache(5555)));
        var after = (await Store.Volumes.FindAsync(live.Id))!.Owners;
        Assert.Equal(cache.Id, after.ResourceCacheId);
        Assert.NotNull(after.ContainerId);
    }
}
