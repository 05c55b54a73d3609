using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Lifecycle;
using Atc.Gc.Scheduling;
using Xunit.Abstractions;

namespace Atc.Gc.IntegrationTests;

/// <summary>Races between processes lose cleanly: one winner, typed results for the losers, no broken state.</summary>
public sealed class LifecycleRaceTests(PostgresFixture fixture, ITestOutputHelper output) : PostgresTest(fixture)
{
    private const int Rounds = 40;

    [Fact]
    public async Task Two_concurrent_identical_transitions_of_one_volume_have_exactly_one_winner()
    {
        await Given.WorkerAsync();
        for (var round = 0; round < Rounds; round++)
        {
            var volume = await Given.VolumeAsync(VolumeState.Creating);

            var results = await RaceAsync(
                () => Store.Volumes.MarkCreatedAsync(volume.Id),
                () => Store.Volumes.MarkCreatedAsync(volume.Id));

            Assert.Single(results, r => r.Outcome == TransitionOutcome.Applied);
            Assert.Single(results, r => r.Outcome == TransitionOutcome.AlreadyInState);
            Assert.Equal(VolumeState.Created, (await Store.Volumes.FindAsync(volume.Id))!.State);
        }
    }

    [Fact]
    public async Task Two_concurrent_conflicting_transitions_of_one_volume_have_exactly_one_winner_whose_state_sticks()
    {
        await Given.WorkerAsync();
        for (var round = 0; round < Rounds; round++)
        {
            var volume = await Given.VolumeAsync(VolumeState.Initializing);

            var results = await RaceAsync(
                () => Store.Volumes.MarkInitializedAsync(volume.Id),
                () => Store.Volumes.MarkFailedAsync(volume.Id));

            var winner = Assert.Single(results, r => r.Outcome == TransitionOutcome.Applied);
            var loser = Assert.Single(results, r => r.Outcome == TransitionOutcome.NotPermitted);
            var final = (await Store.Volumes.FindAsync(volume.Id))!.State;
            Assert.Equal(winner.State, final);
            Assert.Equal(final, loser.State);
        }
    }

    /// <summary>
    /// The design's race: copy-on-write children are being made from a parent while the collector
    /// destroys it. Twenty parents at a time, each with four child creators and one destroyer
    /// released together, for several rounds.
    /// </summary>
    [Fact]
    public async Task Children_created_while_their_parent_is_destroyed_never_land_on_a_destroying_parent()
    {
        await Given.WorkerAsync();
        const int parentsPerRound = 20;
        const int childCreators = 4;
        var destroyedFirst = 0;
        var childrenFirst = 0;

        for (var round = 0; round < 4; round++)
        {
            var parents = new List<Volume>();
            for (var i = 0; i < parentsPerRound; i++)
            {
                parents.Add(await Given.OrphanAsync(VolumeState.Initialized));
            }

            var containers = new List<long>();
            for (var i = 0; i < childCreators; i++)
            {
                containers.Add((await Given.ContainerAsync()).Id);
            }

            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var races = parents.Select(parent =>
            {
                var creators = containers.Select(container => Task.Run(async () =>
                {
                    await start.Task;
                    return await Store.Volumes.CreateCopyOnWriteChildAsync(parent.Id, VolumeOwners.Container(container));
                })).ToArray();
                var destroyer = Task.Run(async () =>
                {
                    await start.Task;
                    return await Store.Volumes.DestroyAsync(parent.Id);
                });
                return (Parent: parent, Creators: creators, Destroyer: destroyer);
            }).ToList();
            start.SetResult();
            await Task.WhenAll(races.SelectMany(r => r.Creators.Cast<Task>().Append(r.Destroyer)));

            foreach (var (parent, creators, destroyer) in races)
            {
                var destroy = await destroyer;
                var children = creators.Select(c => c.Result).ToArray();
                var stored = await Store.Volumes.FindAsync(parent.Id);
                var childRows = await Given.ScalarAsync<int>("SELECT count(*) FROM volumes WHERE parent_id = @Id", new { parent.Id });

                if (destroy.Outcome == TransitionOutcome.Applied)
                {
                    // Never a child on a destroying parent.
                    destroyedFirst++;
                    Assert.Equal(VolumeState.Destroying, stored!.State);
                    Assert.All(children, c => Assert.Equal(CreateVolumeOutcome.ParentNotReady, c.Outcome));
                    Assert.Equal(0, childRows);
                }
                else
                {
                    // Never a parent destroyed under a child.
                    childrenFirst++;
                    Assert.Equal(TransitionOutcome.GuardFailed, destroy.Outcome);
                    Assert.Equal(VolumeState.Initialized, stored!.State);
                    Assert.Contains(children, c => c.Succeeded);
                    Assert.Equal(children.Count(c => c.Succeeded), childRows);
                }
            }
        }

        Assert.Equal(0, await Given.ScalarAsync<int>(
            "SELECT count(*) FROM volumes c JOIN volumes p ON p.id = c.parent_id WHERE p.state <> 'initialized'"));
        Assert.Equal(4 * parentsPerRound, destroyedFirst + childrenFirst);
        output.WriteLine($"destroy won {destroyedFirst} races, children won {childrenFirst}");
    }

    private static async Task<TransitionResult[]> RaceAsync(Func<Task<TransitionResult>> first, Func<Task<TransitionResult>> second)
    {
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var a = Task.Run(async () =>
        {
            await start.Task;
            return await first();
        });
        var b = Task.Run(async () =>
        {
            await start.Task;
            return await second();
        });
        start.SetResult();
        return await Task.WhenAll(a, b);
    }
}
