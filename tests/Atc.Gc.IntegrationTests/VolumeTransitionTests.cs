using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Lifecycle;
using Atc.Gc.Scheduling;

namespace Atc.Gc.IntegrationTests;

/// <summary>Every trigger fired at a volume in every state, persisted as a compare-and-set.</summary>
public sealed class VolumeTransitionTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    /// <summary>The lifecycle as specified (written out here, not read from the implementation).</summary>
    private static readonly Dictionary<(VolumeState From, VolumeTrigger Trigger), VolumeState> Permitted = new()
    {
        [(VolumeState.Creating, VolumeTrigger.MarkCreated)] = VolumeState.Created,
        [(VolumeState.Creating, VolumeTrigger.Fail)] = VolumeState.Failed,
        [(VolumeState.Created, VolumeTrigger.StartInitializing)] = VolumeState.Initializing,
        [(VolumeState.Created, VolumeTrigger.Destroy)] = VolumeState.Destroying,
        [(VolumeState.Initializing, VolumeTrigger.MarkInitialized)] = VolumeState.Initialized,
        [(VolumeState.Initializing, VolumeTrigger.Fail)] = VolumeState.Failed,
        [(VolumeState.Initialized, VolumeTrigger.Destroy)] = VolumeState.Destroying,
        [(VolumeState.Failed, VolumeTrigger.Discard)] = VolumeState.Destroying,
        [(VolumeState.Destroying, VolumeTrigger.ConfirmDeleted)] = VolumeState.Gone,
        [(VolumeState.Created, VolumeTrigger.Forget)] = VolumeState.Gone,
        [(VolumeState.Initializing, VolumeTrigger.Forget)] = VolumeState.Gone,
        [(VolumeState.Initialized, VolumeTrigger.Forget)] = VolumeState.Gone,
        [(VolumeState.Failed, VolumeTrigger.Forget)] = VolumeState.Gone,
    };

    private static readonly Dictionary<VolumeTrigger, VolumeState> Target = new()
    {
        [VolumeTrigger.MarkCreated] = VolumeState.Created,
        [VolumeTrigger.StartInitializing] = VolumeState.Initializing,
        [VolumeTrigger.MarkInitialized] = VolumeState.Initialized,
        [VolumeTrigger.Fail] = VolumeState.Failed,
        [VolumeTrigger.Destroy] = VolumeState.Destroying,
        [VolumeTrigger.Discard] = VolumeState.Destroying,
        [VolumeTrigger.ConfirmDeleted] = VolumeState.Gone,
        [VolumeTrigger.Forget] = VolumeState.Gone,
    };

    public static TheoryData<VolumeState, VolumeTrigger> EveryStateAndTrigger()
    {
        var data = new TheoryData<VolumeState, VolumeTrigger>();
        foreach (var state in VolumeStates.Stored)
        {
            foreach (var trigger in Enum.GetValues<VolumeTrigger>())
            {
                data.Add(state, trigger);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EveryStateAndTrigger))]
    public async Task Each_trigger_moves_a_missing_orphan_only_along_a_permitted_edge(VolumeState state, VolumeTrigger trigger)
    {
        await Given.WorkerAsync();
        var volume = state == VolumeState.Destroying ? await Given.DestroyingAsync() : await Given.OrphanAsync(state);
        await Given.ExecuteAsync("UPDATE volumes SET missing_since = now() WHERE id = @Id", new { volume.Id });

        var result = await Store.Volumes.TransitionAsync(volume.Id, trigger);
        var after = await Store.Volumes.FindAsync(volume.Id);
        var stateAfter = after?.State ?? VolumeState.Gone;

        if (Permitted.TryGetValue((state, trigger), out var destination))
        {
            Assert.Equal(TransitionOutcome.Applied, result.Outcome);
            Assert.Equal(destination, stateAfter);
        }
        else if (Target[trigger] == state)
        {
            Assert.Equal(TransitionOutcome.AlreadyInState, result.Outcome);
            Assert.Equal(state, stateAfter);
        }
        else
        {
            Assert.Equal(TransitionOutcome.NotPermitted, result.Outcome);
            Assert.Equal(state, result.State);
            Assert.Equal(state, stateAfter);
        }
    }

    public static TheoryData<string> OwnerKinds() => new() { "container", "resource cache", "base resource type", "task cache" };

    [Theory]
    [MemberData(nameof(OwnerKinds))]
    public async Task Destroy_is_refused_while_any_owner_column_is_set(string ownerKind)
    {
        var types = (await Store.Workers.RegisterAsync(new WorkerRegistration("worker-1", null, [new("git", "img", "1")]))).ResourceTypes;
        var job = await Given.JobAsync();
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "s");
        VolumeOwners owners = ownerKind switch
        {
            "container" => VolumeOwners.Container((await Given.ContainerAsync()).Id),
            "resource cache" => VolumeOwners.ResourceCache((await Store.ResourceCaches.FindOrCreateCacheAsync(config, "{}", "p")).Cache!.Id),
            "base resource type" => VolumeOwners.BaseResourceType(types[0].Id),
            _ => VolumeOwners.TaskCache(await Store.TaskCaches.FindOrCreateAsync(job, "step", "/cache")),
        };
        var volume = await Given.VolumeAsync(VolumeState.Initialized, owners: owners);

        var result = await Store.Volumes.DestroyAsync(volume.Id);

        Assert.Equal(TransitionOutcome.GuardFailed, result.Outcome);
        Assert.Equal("unowned", result.Detail);
        Assert.Equal(VolumeState.Initialized, (await Store.Volumes.FindAsync(volume.Id))!.State);
    }

    [Fact]
    public async Task A_volume_its_worker_still_reports_cannot_be_forgotten()
    {
        await Given.WorkerAsync();
        var volume = await Given.OrphanAsync(VolumeState.Initialized);

        var result = await Store.Volumes.ForgetAsync(volume.Id);

        Assert.Equal(TransitionOutcome.GuardFailed, result.Outcome);
        Assert.Equal("missing", result.Detail);
    }

    [Fact]
    public async Task A_missing_volume_with_an_owner_or_a_child_cannot_be_forgotten()
    {
        await Given.WorkerAsync();
        var owned = await Given.VolumeAsync(VolumeState.Initialized);
        var parent = await Given.VolumeAsync(VolumeState.Initialized);
        await Store.Volumes.CreateCopyOnWriteChildAsync(parent.Id, parent.Owners);
        await Given.ReleaseContainerAsync(parent.Owners.ContainerId!.Value);
        await Given.ExecuteAsync("UPDATE volumes SET missing_since = now(), missing_reports = 99 WHERE id = ANY(@ids)", new { ids = new[] { owned.Id, parent.Id } });

        var ownedResult = await Store.Volumes.ForgetAsync(owned.Id);
        var parentResult = await Store.Volumes.ForgetAsync(parent.Id);

        Assert.Equal((TransitionOutcome.GuardFailed, "unowned"), (ownedResult.Outcome, ownedResult.Detail));
        Assert.Equal((TransitionOutcome.GuardFailed, "childless"), (parentResult.Outcome, parentResult.Detail));
        Assert.NotNull(await Store.Volumes.FindAsync(owned.Id));
        Assert.NotNull(await Store.Volumes.FindAsync(parent.Id));
    }

    [Fact]
    public async Task A_failed_volume_is_discarded_whatever_its_owners_but_destroy_still_needs_none()
    {
        await Given.WorkerAsync();
        var failed = await Given.VolumeAsync(VolumeState.Failed);
        var ready = await Given.VolumeAsync(VolumeState.Initialized);

        var discarded = await Store.Volumes.TransitionAsync(failed.Id, VolumeTrigger.Discard);
        var destroyed = await Store.Volumes.DestroyAsync(ready.Id);

        Assert.Equal(TransitionOutcome.Applied, discarded.Outcome);
        Assert.Equal(VolumeState.Destroying, (await Store.Volumes.FindAsync(failed.Id))!.State);
        Assert.NotNull((await Store.Volumes.FindAsync(failed.Id))!.Owners.ContainerId);
        Assert.Equal((TransitionOutcome.GuardFailed, "unowned"), (destroyed.Outcome, destroyed.Detail));
    }

    [Fact]
    public async Task Firing_the_same_trigger_twice_is_idempotent()
    {
        await Given.WorkerAsync();
        var volume = await Given.VolumeAsync(VolumeState.Creating);

        var first = await Store.Volumes.MarkCreatedAsync(volume.Id);
        var second = await Store.Volumes.MarkCreatedAsync(volume.Id);

        Assert.Equal(TransitionOutcome.Applied, first.Outcome);
        Assert.Equal(TransitionOutcome.AlreadyInState, second.Outcome);
        Assert.True(second.Succeeded);
    }

    [Fact]
    public async Task Confirming_deletion_of_a_volume_already_removed_reports_it_gone()
    {
        await Given.WorkerAsync();
        var volume = await Given.DestroyingAsync();
        Assert.Equal(TransitionOutcome.Applied, (await Store.Volumes.ConfirmDeletedAsync(volume.Id)).Outcome);

        var again = await Store.Volumes.ConfirmDeletedAsync(volume.Id);

        Assert.Equal(TransitionOutcome.AlreadyInState, again.Outcome);
        Assert.Equal(VolumeState.Gone, again.State);
    }

    [Fact]
    public async Task A_transition_of_an_unknown_volume_is_not_found()
    {
        var result = await Store.Volumes.MarkInitializedAsync(424242);

        Assert.Equal(TransitionOutcome.NotFound, result.Outcome);
    }

    [Fact]
    public async Task An_applied_transition_records_when_the_state_changed()
    {
        await Given.WorkerAsync();
        var volume = await Given.VolumeAsync(VolumeState.Creating);
        await Given.ExecuteAsync("UPDATE volumes SET state_changed_at = now() - interval '1 hour' WHERE id = @Id", new { volume.Id });

        await Store.Volumes.MarkCreatedAsync(volume.Id);

        var after = await Store.Volumes.FindAsync(volume.Id);
        Assert.True(DateTimeOffset.UtcNow - after!.StateChangedAt < TimeSpan.FromMinutes(5));
        Assert.Equal(TimeSpan.Zero, after.StateChangedAt.Offset);
    }
}
