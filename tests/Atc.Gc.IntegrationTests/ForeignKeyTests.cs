using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Lifecycle;
using Atc.Gc.Scheduling;
using Npgsql;

namespace Atc.Gc.IntegrationTests;

/// <summary>Ownership is expressed by foreign keys; these pin what each one does.</summary>
public sealed class ForeignKeyTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task Deleting_a_container_orphans_its_volumes_without_changing_their_state()
    {
        await Given.WorkerAsync();
        var volume = await Given.VolumeAsync(VolumeState.Initialized);

        await Given.ReleaseContainerAsync(volume.Owners.ContainerId!.Value);

        var after = await Store.Volumes.FindAsync(volume.Id);
        Assert.NotNull(after);
        Assert.False(after.Owners.Any);
        Assert.Equal(VolumeState.Initialized, after.State);
    }

    [Fact]
    public async Task Deleting_a_resource_cache_that_has_uses_fails_and_keeps_the_cache()
    {
        await Given.WorkerAsync();
        var build = await Given.BuildAsync();
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "source-1");
        var cache = (await Store.ResourceCaches.AcquireAsync(config, """{"ref":"abc"}""", "params-1", CacheUser.Build(build))).Cache!;

        var ex = await Assert.ThrowsAsync<PostgresException>(() =>
            Given.ExecuteAsync("DELETE FROM resource_caches WHERE id = @Id", new { cache.Id }));

        Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, ex.SqlState);
        Assert.Equal("resource_cache_uses_resource_cache_id_fkey", ex.ConstraintName);
        Assert.Equal(1, await Given.ScalarAsync<int>("SELECT count(*) FROM resource_caches WHERE id = @Id", new { cache.Id }));
    }

    [Fact]
    public async Task Deleting_an_unused_resource_cache_orphans_its_volumes()
    {
        await Given.WorkerAsync();
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "source-1");
        var cache = (await Store.ResourceCaches.FindOrCreateCacheAsync(config, """{"ref":"abc"}""", "params-1")).Cache!;
        var volume = await Given.VolumeAsync(VolumeState.Initialized, owners: VolumeOwners.ResourceCache(cache.Id));

        await Given.ExecuteAsync("DELETE FROM resource_caches WHERE id = @Id", new { cache.Id });

        Assert.Null((await Store.Volumes.FindAsync(volume.Id))!.Owners.ResourceCacheId);
    }

    [Fact]
    public async Task Deleting_a_build_removes_its_cache_uses_and_releases_its_containers()
    {
        await Given.WorkerAsync();
        var build = await Given.BuildAsync();
        var container = await Given.ContainerAsync(buildId: build);
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "source-1");
        await Store.ResourceCaches.AcquireAsync(config, """{"ref":"abc"}""", "p", CacheUser.Build(build));

        await Given.ExecuteAsync("DELETE FROM builds WHERE id = @build", new { build });

        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM resource_cache_uses"));
        Assert.Null((await Store.Containers.FindAsync(container.Id))!.BuildId);
    }

    [Fact]
    public async Task Deleting_a_worker_cascades_to_its_containers_base_resource_types_and_whole_volume_trees()
    {
        var worker = await Given.WorkerAsync("doomed", new BaseResourceTypeVersion("git", "img", "1"));
        var parent = await Given.VolumeAsync(VolumeState.Initialized, worker);
        var child = await Store.Volumes.CreateCopyOnWriteChildAsync(parent.Id, parent.Owners);
        Assert.True(child.Succeeded);
        await Store.Volumes.MarkCreatedAsync(child.Volume!.Id);
        await Store.Volumes.StartInitializingAsync(child.Volume.Id);
        await Store.Volumes.MarkInitializedAsync(child.Volume.Id);
        var grandchild = await Store.Volumes.CreateCopyOnWriteChildAsync(child.Volume.Id, parent.Owners);
        Assert.True(grandchild.Succeeded);
        await Given.WorkerAsync("survivor");
        var survivor = await Given.VolumeAsync(VolumeState.Created, "survivor");

        await Given.ExecuteAsync("DELETE FROM workers WHERE name = 'doomed'");

        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM volumes WHERE worker_name = 'doomed'"));
        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM containers WHERE worker_name = 'doomed'"));
        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM worker_base_resource_types WHERE worker_name = 'doomed'"));
        Assert.NotNull(await Store.Volumes.FindAsync(survivor.Id));
    }

    [Theory]
    [InlineData(VolumeState.Creating)]
    [InlineData(VolumeState.Created)]
    [InlineData(VolumeState.Initializing)]
    [InlineData(VolumeState.Failed)]
    public async Task A_child_on_a_parent_that_is_not_initialized_is_refused(VolumeState parentState)
    {
        await Given.WorkerAsync();
        var parent = await Given.VolumeAsync(parentState);

        var result = await Store.Volumes.CreateCopyOnWriteChildAsync(parent.Id, parent.Owners);

        Assert.Equal(CreateVolumeOutcome.ParentNotReady, result.Outcome);
        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM volumes WHERE parent_id = @Id", new { parent.Id }));
    }

    [Fact]
    public async Task A_child_on_a_destroying_parent_is_refused()
    {
        await Given.WorkerAsync();
        var parent = await Given.DestroyingAsync();
        var container = await Given.ContainerAsync();

        var result = await Store.Volumes.CreateCopyOnWriteChildAsync(parent.Id, VolumeOwners.Container(container.Id));

        Assert.Equal(CreateVolumeOutcome.ParentNotReady, result.Outcome);
    }

    [Fact]
    public async Task A_child_row_written_directly_against_a_parent_that_is_not_initialized_violates_the_composite_foreign_key()
    {
        await Given.WorkerAsync();
        var parent = await Given.VolumeAsync(VolumeState.Created);

        var ex = await Assert.ThrowsAsync<PostgresException>(() => Given.ExecuteAsync(
            """
            INSERT INTO volumes (handle, worker_name, container_id, parent_id, parent_state)
            VALUES ('direct-child', 'worker-1', @ContainerId, @Id, 'initialized')
            """, new { parent.Id, parent.Owners.ContainerId }));

        Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, ex.SqlState);
        Assert.Equal("volumes_parent_fkey", ex.ConstraintName);
    }

    [Fact]
    public async Task A_child_row_can_only_reference_the_initialized_state_of_its_parent()
    {
        await Given.WorkerAsync();
        var parent = await Given.VolumeAsync(VolumeState.Created);

        var ex = await Assert.ThrowsAsync<PostgresException>(() => Given.ExecuteAsync(
            """
            INSERT INTO volumes (handle, worker_name, container_id, parent_id, parent_state)
            VALUES ('direct-child', 'worker-1', @ContainerId, @Id, 'created')
            """, new { parent.Id, parent.Owners.ContainerId }));

        Assert.Equal(PostgresErrorCodes.CheckViolation, ex.SqlState);
    }

    [Fact]
    public async Task A_parent_with_children_cannot_move_to_destroying_even_when_unowned()
    {
        await Given.WorkerAsync();
        var parent = await Given.VolumeAsync(VolumeState.Initialized);
        var container = await Given.ContainerAsync();
        Assert.True((await Store.Volumes.CreateCopyOnWriteChildAsync(parent.Id, VolumeOwners.Container(container.Id))).Succeeded);
        await Given.ReleaseContainerAsync(parent.Owners.ContainerId!.Value);

        var result = await Store.Volumes.DestroyAsync(parent.Id);

        Assert.Equal(TransitionOutcome.GuardFailed, result.Outcome);
        Assert.Equal("childless", result.Detail);
        Assert.Equal(VolumeState.Initialized, (await Store.Volumes.FindAsync(parent.Id))!.State);
    }

    [Fact]
    public async Task The_schema_itself_refuses_a_state_change_of_a_parent_with_children()
    {
        await Given.WorkerAsync();
        var parent = await Given.VolumeAsync(VolumeState.Initialized);
        Assert.True((await Store.Volumes.CreateCopyOnWriteChildAsync(parent.Id, parent.Owners)).Succeeded);

        var ex = await Assert.ThrowsAsync<PostgresException>(() =>
            Given.ExecuteAsync("UPDATE volumes SET state = 'destroying' WHERE id = @Id", new { parent.Id }));

        Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, ex.SqlState);
        Assert.Equal("volumes_parent_fkey", ex.ConstraintName);
    }

    [Fact]
    public async Task A_parent_cannot_be_deleted_alone_while_a_child_exists_but_can_with_its_children()
    {
        await Given.WorkerAsync();
        var parent = await Given.VolumeAsync(VolumeState.Initialized);
        var child = (await Store.Volumes.CreateCopyOnWriteChildAsync(parent.Id, parent.Owners)).Volume!;

        var alone = await Assert.ThrowsAsync<PostgresException>(() =>
            Given.ExecuteAsync("DELETE FROM volumes WHERE id = @Id", new { parent.Id }));
        Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, alone.SqlState);

        var deleted = await Given.ExecuteAsync("DELETE FROM volumes WHERE id = ANY(@ids)", new { ids = new[] { parent.Id, child.Id } });
        Assert.Equal(2, deleted);
    }

    [Fact]
    public async Task A_base_resource_type_a_worker_provides_cannot_be_deleted()
    {
        await Given.WorkerAsync("w", new BaseResourceTypeVersion("git", "img", "1"));

        var ex = await Assert.ThrowsAsync<PostgresException>(() => Given.ExecuteAsync("DELETE FROM base_resource_types WHERE name = 'git'"));

        Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, ex.SqlState);
    }

    [Fact]
    public async Task A_new_base_resource_type_version_replaces_the_row_and_orphans_volumes_of_the_old_one()
    {
        var types = (await Store.Workers.RegisterAsync(new WorkerRegistration("w", null, [new("git", "img", "1"), new("s3", "img", "7")]))).ResourceTypes;
        var git = types.Single(t => t.Name == "git");
        var s3 = types.Single(t => t.Name == "s3");
        var gitVolume = await Given.VolumeAsync(VolumeState.Initialized, "w", VolumeOwners.BaseResourceType(git.Id));
        var s3Volume = await Given.VolumeAsync(VolumeState.Initialized, "w", VolumeOwners.BaseResourceType(s3.Id));

        var after = (await Store.Workers.RegisterAsync(new WorkerRegistration("w", null, [new("git", "img", "2"), new("s3", "img", "7")]))).ResourceTypes;

        Assert.NotEqual(git.Id, after.Single(t => t.Name == "git").Id);
        Assert.Equal("2", after.Single(t => t.Name == "git").Version);
        Assert.Equal(s3.Id, after.Single(t => t.Name == "s3").Id);
        Assert.False((await Store.Volumes.FindAsync(gitVolume.Id))!.Owners.Any);
        Assert.Equal(s3.Id, (await Store.Volumes.FindAsync(s3Volume.Id))!.Owners.WorkerBaseResourceTypeId);
    }

    [Fact]
    public async Task Removing_a_job_removes_its_task_caches_and_orphans_their_volumes()
    {
        await Given.WorkerAsync();
        var job = await Given.JobAsync();
        var cache = await Store.TaskCaches.FindOrCreateAsync(job, "compile", "/root/.m2");
        var volume = await Given.VolumeAsync(VolumeState.Initialized, owners: VolumeOwners.TaskCache(cache));

        await Given.ExecuteAsync("DELETE FROM jobs WHERE id = @job", new { job });

        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM task_caches"));
        Assert.Null((await Store.Volumes.FindAsync(volume.Id))!.Owners.TaskCacheId);
    }

    [Fact]
    public async Task The_cache_behind_a_custom_resource_type_config_cannot_be_deleted()
    {
        var build = await Given.BuildAsync();
        var imageConfig = await Store.ResourceCaches.FindOrCreateConfigAsync("registry-image", "custom-type-source");
        var imageCache = (await Store.ResourceCaches.AcquireAsync(imageConfig, """{"digest":"sha256:1"}""", "p", CacheUser.Build(build))).Cache!;
        await Store.ResourceCaches.FindOrCreateCustomConfigAsync(imageCache.Id, "resource-source");
        await Given.ExecuteAsync("DELETE FROM resource_cache_uses");

        var ex = await Assert.ThrowsAsync<PostgresException>(() =>
            Given.ExecuteAsync("DELETE FROM resource_caches WHERE id = @Id", new { imageCache.Id }));

        Assert.Equal("resource_configs_resource_cache_id_fkey", ex.ConstraintName);
    }
}
