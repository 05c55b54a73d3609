using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Lifecycle;
using Atc.Gc.Model;
using Atc.Gc.Scheduling;

namespace Atc.Gc.IntegrationTests.Collection;

public sealed class ContainerCollectorTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task A_container_of_a_released_build_is_destroyed_and_its_volumes_orphaned()
    {
        await Given.WorkerAsync();
        var build = await Given.BuildAsync();
        var container = await Given.ContainerAsync(buildId: build);
        await Store.Containers.MarkCreatedAsync(container.Id);
        var volume = await Given.VolumeAsync(VolumeState.Initialized, owners: VolumeOwners.Container(container.Id));
        await Store.Builds.FinishAsync(build, BuildStatus.Succeeded);
        await using var harness = new CollectorHarness(DataSource);

        await harness.RunAsync("builds");
        var report = await harness.RunAsync("containers");

        Assert.Equal(1, report.Details["destroying"]);
        Assert.Equal(1, report.Details["deleted"]);
        Assert.Null(await Store.Containers.FindAsync(container.Id));
        Assert.False((await Store.Volumes.FindAsync(volume.Id))!.Owners.Any);
    }

    [Fact]
    public async Task A_container_of_a_running_build_is_kept()
    {
        await Given.WorkerAsync();
        var container = await Given.ContainerAsync();
        await Store.Containers.MarkCreatedAsync(container.Id);
        await using var harness = new CollectorHarness(DataSource);

        var report = await harness.RunAsync("containers");

        Assert.Equal(0, report.Changed);
        Assert.NotNull(await Store.Containers.FindAsync(container.Id));
    }

    [Fact]
    public async Task A_failed_container_and_one_without_owners_are_destroyed()
    {
        await Given.WorkerAsync();
        var failed = await Given.ContainerAsync();
        await Store.Containers.MarkFailedAsync(failed.Id);
        var ownerless = await Given.ContainerAsync();
        await Store.Containers.MarkCreatedAsync(ownerless.Id);
        await Given.ExecuteAsync("DELETE FROM builds WHERE id = @BuildId", new { ownerless.BuildId });
        await using var harness = new CollectorHarness(DataSource);

        var report = await harness.RunAsync("containers");

        Assert.Equal(2, report.Details["deleted"]);
    }

    [Fact]
    public async Task A_container_stuck_creating_past_the_setup_timeout_fails_and_is_destroyed()
    {
        await Given.WorkerAsync();
        var stuck = await Given.ContainerAsync();
        var young = await Given.ContainerAsync();
        await Given.ExecuteAsync("UPDATE containers SET state_changed_at = now() - interval '1 hour' WHERE id = @Id", new { stuck.Id });
        await using var harness = new CollectorHarness(DataSource);

        var report = await harness.RunAsync("containers");

        Assert.Equal(1, report.Details["failed"]);
        Assert.Null(await Store.Containers.FindAsync(stuck.Id));
        Assert.Equal(ContainerState.Creating, (await Store.Containers.FindAsync(young.Id))!.State);
    }

    [Fact]
    public async Task Containers_on_a_stalled_worker_are_left_alone()
    {
        await Given.WorkerAsync();
        var container = await Given.ContainerAsync();
        await Store.Containers.MarkFailedAsync(container.Id);
        await Given.ExecuteAsync("UPDATE workers SET state = 'stalled'");
        await using var harness = new CollectorHarness(DataSource);

        await harness.RunAsync("containers");

        Assert.NotNull(await Store.Containers.FindAsync(container.Id));
    }

    [Fact]
    public async Task A_check_container_is_recycled_after_its_lifetime_and_a_young_one_kept()
    {
        await Given.WorkerAsync();
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "s");
        var old = (await Store.Containers.CreateAsync("worker-1", ContainerOwner.Check(config))).Container!;
        var young = (await Store.Containers.CreateAsync("worker-1", ContainerOwner.Check(config))).Container!;
        await Store.Containers.MarkCreatedAsync(old.Id);
        await Store.Containers.MarkCreatedAsync(young.Id);
        await Given.ExecuteAsync("UPDATE containers SET created_at = now() - interval '2 hours' WHERE id = @Id", new { old.Id });
        await using var harness = new CollectorHarness(DataSource);

        var report = await harness.RunAsync("containers");

        Assert.Equal(1, report.Details["deleted"]);
        Assert.Null(await Store.Containers.FindAsync(old.Id));
        Assert.NotNull(await Store.Containers.FindAsync(young.Id));
    }

    [Fact]
    public async Task A_container_still_creating_when_its_build_is_released_is_destroyed_without_waiting_for_the_setup_timeout()
    {
        await Given.WorkerAsync();
        var build = await Given.BuildAsync();
        var container = await Given.ContainerAsync(buildId: build);
        await Store.Builds.FinishAsync(build, BuildStatus.Succeeded);
        await using var harness = new CollectorHarness(DataSource);

        await harness.RunAsync("builds", "containers");

        Assert.Null(await Store.Containers.FindAsync(container.Id));
    }
}
