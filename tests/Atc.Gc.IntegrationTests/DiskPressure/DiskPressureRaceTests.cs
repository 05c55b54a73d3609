using Atc.Gc.Collection.DiskPressure;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Lifecycle;
using Atc.Gc.Scheduling;
using Microsoft.Extensions.DependencyInjection;

namespace Atc.Gc.IntegrationTests.DiskPressure;

/// <summary>
/// A use taken while eviction decides either wins — the volume stays on disk — or fails as a typed
/// result; never does a build get a volume that is then destroyed. The window is held open: the
/// collector is stopped between its locks and its decision (<see cref="HeldDiskPressurePause"/>), or
/// the use is held in an open transaction while the pass runs.
/// </summary>
public sealed class DiskPressureRaceTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    private const string Worker = "worker-1";
    private static readonly TimeSpan Blocked = TimeSpan.FromMilliseconds(500);

    private DiskScenario? disk;

    private DiskScenario Disk => disk ??= new(Given, Store);

    [Fact]
    public async Task A_child_made_while_eviction_holds_its_parent_waits_then_keeps_the_parent_on_disk_or_is_refused()
    {
        var (parent, _) = await FullWorkerAsync();
        var container = await Given.ContainerAsync(Worker);
        var pause = new HeldDiskPressurePause();
        await using var harness = Harness(pause);

        var pass = harness.RunAsync("disk-pressure", "orphaned-volumes");
        await pause.Locked;
        var child = Store.Volumes.CreateCopyOnWriteChildAsync(parent.Id, VolumeOwners.Container(container.Id));
        await Task.Delay(Blocked);
        Assert.False(child.IsCompleted, "the child waits for the eviction's lock on its parent");
        pause.Release();
        await pass;

        // Once the eviction commits, the child and the orphan collector race for the parent: the child
        // is made and keeps its parent on disk, or the parent is destroying and the child is refused, typed.
        var made = await child;
        var after = (await Store.Volumes.FindAsync(parent.Id))!;
        Assert.Null(after.Owners.ResourceCacheId);
        if (made.Succeeded)
        {
            Assert.Equal(VolumeState.Initialized, after.State);
        }
        else
        {
            Assert.Equal(CreateVolumeOutcome.ParentNotReady, made.Outcome);
            Assert.Equal(VolumeState.Destroying, after.State);
        }
    }

    [Fact]
    public async Task A_hand_out_while_eviction_holds_the_volume_waits_then_finds_it_released()
    {
        var (parent, cache) = await FullWorkerAsync();
        var pause = new HeldDiskPressurePause();
        await using var harness = Harness(pause);

        var pass = harness.RunAsync("disk-pressure");
        await pause.Locked;
        var use = Store.CacheVolumes.UseAsync(parent.Id, VolumeOwners.ResourceCache(cache));
        await Task.Delay(Blocked);
        Assert.False(use.IsCompleted, "the hand-out waits for the eviction's lock on the volume");
        pause.Release();
        await pass;

        Assert.Equal(CacheVolumeUseOutcome.Released, await use);
        Assert.Null((await Store.Volumes.FindAsync(parent.Id))!.Owners.ResourceCacheId);
    }

    [Fact]
    public async Task A_build_use_of_the_cache_while_eviction_holds_the_cache_waits_and_a_use_in_flight_keeps_the_volume()
    {
        var (volume, cache) = await FullWorkerAsync();
        var build = await Given.BuildAsync();

        // A running build's use, still uncommitted when the pass runs: its lock on the cache makes the pass skip the volume.
        await using (var connection = await DataSource.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await using (var insert = new Npgsql.NpgsqlCommand("INSERT INTO resource_cache_uses (resource_cache_id, build_id) VALUES (@cache, @build)", connection, transaction))
            {
                insert.Parameters.AddWithValue("cache", cache);
                insert.Parameters.AddWithValue("build", build);
                await insert.ExecuteNonQueryAsync();
            }

            await using var harness = Harness(new NoDiskPressurePause());
            Assert.Equal(0, (await harness.RunAsync("disk-pressure")).Changed);
            await transaction.CommitAsync();
        }

        // Committed, the use is a running build's: the volume is not evictable at all.
        await using (var harness = Harness(new NoDiskPressurePause()))
        {
            Assert.Equal(0, (await harness.RunAsync("disk-pressure")).Changed);
        }

        Assert.Single(await Disk.StillCachedAsync([volume.Id]));
    }

    /// <summary>One worker, full, with one kept volume nobody uses: the volume and its cache.</summary>
    private async Task<(Volume Volume, long Cache)> FullWorkerAsync()
    {
        await Given.WorkerAsync(Worker);
        var cache = await Disk.CacheAsync();
        var volume = await Disk.KeptAsync(Worker, 1000, TimeSpan.FromHours(1), cache);
        await Disk.ReportDiskAsync(Worker, capacity: 1000);
        return (volume, cache);
    }

    private CollectorHarness Harness(IDiskPressurePause pause) =>
        new(DataSource, configure: services => services.AddSingleton(pause));
}
