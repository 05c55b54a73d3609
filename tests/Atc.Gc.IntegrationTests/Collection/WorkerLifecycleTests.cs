using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Lifecycle;
using Atc.Gc.Model;
using Atc.Gc.Scheduling;

namespace Atc.Gc.IntegrationTests.Collection;

/// <summary>Heartbeats, landing, retiring, pruning, and volumes a worker lost.</summary>
public sealed class WorkerLifecycleTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task A_worker_whose_heartbeat_expired_is_stalled_and_is_running_again_when_it_heartbeats()
    {
        await Given.WorkerAsync("silent");
        await Given.WorkerAsync("alive");
        await Given.ExecuteAsync("UPDATE workers SET heartbeat_at = now() - interval '5 minutes' WHERE name = 'silent'");
        await using var harness = new CollectorHarness(DataSource);

        var report = await harness.RunAsync("workers");

        Assert.Equal(1, report.Details["stalled"]);
        Assert.Equal(WorkerState.Stalled, (await Store.Workers.FindAsync("silent"))!.State);
        Assert.Equal(WorkerState.Running, (await Store.Workers.FindAsync("alive"))!.State);

        await Store.Workers.HeartbeatAsync("silent");
        Assert.Equal(WorkerState.Running, (await Store.Workers.FindAsync("silent"))!.State);
    }

    [Fact]
    public async Task A_landing_worker_is_landed_once_its_containers_are_gone()
    {
        await Given.WorkerAsync("w1");
        var container = await Given.ContainerAsync("w1");
        await Store.Workers.LandAsync("w1");
        await using var harness = new CollectorHarness(DataSource);

        await harness.RunAsync("workers");
        Assert.Equal(WorkerState.Landing, (await Store.Workers.FindAsync("w1"))!.State);

        await Given.ExecuteAsync("DELETE FROM containers WHERE id = @Id", new { container.Id });
        await harness.RunAsync("workers");
        Assert.Equal(WorkerState.Landed, (await Store.Workers.FindAsync("w1"))!.State);
    }

    [Fact]
    public async Task A_retiring_worker_is_deleted_with_its_volumes_once_its_containers_are_gone()
    {
        await Given.WorkerAsync("w1");
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "s");
        var cache = (await Store.ResourceCaches.FindOrCreateCacheAsync(config, "{}", "p")).Cache!;
        await Given.VolumeAsync(VolumeState.Initialized, "w1", VolumeOwners.ResourceCache(cache.Id));
        await Store.Workers.RetireAsync("w1");
        await using var harness = new CollectorHarness(DataSource);

        var report = await harness.RunAsync("workers");

        Assert.Equal(1, report.Details["retired"]);
        Assert.Null(await Store.Workers.FindAsync("w1"));
        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM volumes"));
    }

    [Fact]
    public async Task Only_a_stalled_or_landed_worker_can_be_pruned_unless_forced()
    {
        await Given.WorkerAsync("w1");
        await Given.VolumeAsync(VolumeState.Initialized, "w1");

        var refused = await Store.Workers.PruneAsync("w1");
        Assert.False(refused.Pruned);
        Assert.Contains("is running", refused.Refusal, StringComparison.Ordinal);

        await Given.ExecuteAsync("UPDATE workers SET state = 'stalled'");
        var pruned = await Store.Workers.PruneAsync("w1");
        Assert.True(pruned.Pruned);
        Assert.Equal(1, pruned.Volumes);
        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM volumes"));

        Assert.Contains("no worker", (await Store.Workers.PruneAsync("w1")).Refusal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_volume_is_forgotten_after_enough_reports_leaves_first_and_never_while_owned()
    {
        await Given.WorkerAsync("w1");
        var parent = await Given.OrphanAsync(VolumeState.Initialized, "w1");
        var child = (await Store.Volumes.CreateCopyOnWriteChildAsync(parent.Id, VolumeOwners.Container((await Given.ContainerAsync("w1")).Id))).Volume!;
        await Store.Volumes.MarkCreatedAsync(child.Id);
        var owned = await Given.VolumeAsync(VolumeState.Initialized, "w1");
        var notYet = await Given.OrphanAsync(VolumeState.Initialized, "w1");
        await Given.ExecuteAsync(
            "UPDATE volumes SET missing_since = now() - interval '1 day', missing_reports = 3 WHERE id = ANY(@ids)",
            new { ids = new[] { parent.Id, child.Id, owned.Id } });
        await Given.ExecuteAsync("UPDATE volumes SET missing_since = now() - interval '1 day', missing_reports = 2 WHERE id = @Id", new { notYet.Id });
        await using var harness = new CollectorHarness(DataSource);

        // The child is owned (a running build's container): nothing below the parent may go, so the parent waits.
        Assert.Equal(0, (await harness.RunAsync("missing-volumes")).Changed);

        // The build is done: the child goes first, then its parent.
        await Given.ReleaseContainerAsync(child.Owners.ContainerId!.Value);
        Assert.Equal(1, (await harness.RunAsync("missing-volumes")).Changed);
        Assert.Null(await Store.Volumes.FindAsync(child.Id));
        Assert.Equal(1, (await harness.RunAsync("missing-volumes")).Changed);
        Assert.Null(await Store.Volumes.FindAsync(parent.Id));

        // An owned volume is never forgotten, and one with too few reports against it waits.
        Assert.NotNull(await Store.Volumes.FindAsync(owned.Id));
        Assert.NotNull(await Store.Volumes.FindAsync(notYet.Id));
    }

    [Fact]
    public async Task Missing_volumes_of_a_stalled_worker_are_not_forgotten()
    {
        await Given.WorkerAsync("w1");
        var volume = await Given.VolumeAsync(VolumeState.Initialized, "w1");
        await Given.ExecuteAsync("UPDATE volumes SET missing_since = now() - interval '1 day'");
        await Given.ExecuteAsync("UPDATE workers SET state = 'stalled'");
        await using var harness = new CollectorHarness(DataSource);

        await harness.RunAsync("missing-volumes");

        Assert.NotNull(await Store.Volumes.FindAsync(volume.Id));
    }

    [Theory]
    [InlineData("landing", "landed")]
    [InlineData("retiring", "retired")]
    public async Task Only_a_running_builds_container_holds_a_landing_or_retiring_worker(string state, string detail)
    {
        await Given.WorkerAsync("w1");
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "s");
        var pipeline = await Store.Pipelines.EnsurePipelineAsync("p");
        await Store.Pipelines.EnsureResourceAsync(pipeline, "repo", config); // an active resource: its check container stays
        await Store.Containers.CreateAsync("w1", ContainerOwner.Check(config));
        var finished = await Given.BuildAsync();
        await Given.ContainerAsync("w1", finished);
        await Store.Builds.FinishAsync(finished, BuildStatus.Failed);               // kept for debugging, but not running
        var running = await Given.BuildAsync();
        await Given.ContainerAsync("w1", running);
        await Given.ExecuteAsync("UPDATE workers SET state = @state::worker_state", new { state });
        await using var harness = new CollectorHarness(DataSource);

        var held = await harness.RunAsync("workers");
        Assert.Equal(0, held.Details[detail]);
        Assert.Equal(state, (await Store.Workers.FindAsync("w1"))!.State.ToDb());

        await Store.Builds.FinishAsync(running, BuildStatus.Succeeded);
        var report = await harness.RunAsync("workers");

        Assert.Equal(1, report.Details[detail]);
        Assert.Equal(state == "landing" ? WorkerState.Landed : null, (await Store.Workers.FindAsync("w1"))?.State);
        Assert.Equal(state == "landing" ? 3 : 0, await Given.ScalarAsync<int>("SELECT count(*) FROM containers WHERE worker_name = 'w1'"));
    }
}
