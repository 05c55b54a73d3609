using Atc.Gc.Agent;
using Atc.Gc.Agent.Native;
using Atc.Gc.Workers;

namespace Atc.Gc.IntegrationTests.Agent.Drivers;

/// <summary>
/// What every volume driver must do, with real directories (and real mounts where the driver mounts):
/// run once per driver by the classes below, each skipped with a reason where its driver cannot run.
/// </summary>
public abstract class VolumeDriverConformance
{
    private static readonly IReadOnlyDictionary<string, string> NoProperties = new Dictionary<string, string>();

    /// <summary>The driver under test.</summary>
    protected abstract string Driver { get; }

    /// <summary>True when a child shares its parent's data instead of copying it.</summary>
    protected abstract bool CopyOnWrite { get; }

    /// <summary>A fresh directory for an agent's root on a filesystem the driver works on.</summary>
    protected abstract string NewRoot();

    /// <summary>True when a volume's size counts data it shares with its parent (btrfs: what <c>du</c> sees).</summary>
    protected virtual bool SizeCountsSharedData => !CopyOnWrite;

    /// <summary>The free bytes of the filesystem under <paramref name="root"/> when no other test writes to it; null otherwise.</summary>
    protected virtual long? PrivateFreeBytes(string root) => null;

    [DriverFact]
    public async Task An_empty_volume_is_a_writable_directory_that_is_listed() => await WithStoreAsync(async store =>
    {
        await CreateAsync(store, "empty");

        await File.WriteAllTextAsync(Path.Combine(store.DataPathOf("empty"), "file"), "written");

        Assert.Equal(["empty"], store.List().Select(v => v.Handle));
        Assert.Equal(Driver, store.DriverName);
    });

    [DriverFact]
    public async Task A_child_sees_its_parents_content_and_changes_neither_its_parent_nor_its_siblings() => await WithStoreAsync(async store =>
    {
        await CreateAsync(store, "parent");
        await File.WriteAllTextAsync(Path.Combine(store.DataPathOf("parent"), "input.txt"), "fetched");
        Directory.CreateDirectory(Path.Combine(store.DataPathOf("parent"), "nested"));
        await File.WriteAllTextAsync(Path.Combine(store.DataPathOf("parent"), "nested", "deep.txt"), "deep");

        await CreateAsync(store, "child-a", "parent");
        await CreateAsync(store, "child-b", "parent");
        await File.WriteAllTextAsync(Path.Combine(store.DataPathOf("child-a"), "input.txt"), "changed by a");
        File.Delete(Path.Combine(store.DataPathOf("child-a"), "nested", "deep.txt"));

        Assert.Equal("fetched", await File.ReadAllTextAsync(Path.Combine(store.DataPathOf("parent"), "input.txt")));
        Assert.Equal("deep", await File.ReadAllTextAsync(Path.Combine(store.DataPathOf("parent"), "nested", "deep.txt")));
        Assert.Equal("fetched", await File.ReadAllTextAsync(Path.Combine(store.DataPathOf("child-b"), "input.txt")));
        Assert.Equal("deep", await File.ReadAllTextAsync(Path.Combine(store.DataPathOf("child-b"), "nested", "deep.txt")));
        Assert.Equal("changed by a", await File.ReadAllTextAsync(Path.Combine(store.DataPathOf("child-a"), "input.txt")));
        Assert.Equal("parent", store.Find("child-a")!.Parent);
    });

    [DriverFact]
    public async Task A_chain_of_five_generations_reads_through_every_generation() => await WithStoreAsync(async store =>
    {
        await CreateAsync(store, "g0");
        await File.WriteAllTextAsync(Path.Combine(store.DataPathOf("g0"), "from-0"), "0");
        for (var generation = 1; generation <= 5; generation++)
        {
            await CreateAsync(store, $"g{generation}", $"g{generation - 1}");
            await File.WriteAllTextAsync(Path.Combine(store.DataPathOf($"g{generation}"), $"from-{generation}"), generation.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.Equal(
            ["from-0", "from-1", "from-2", "from-3", "from-4", "from-5"],
            Directory.EnumerateFiles(store.DataPathOf("g5")).Select(Path.GetFileName).Order());
        Assert.Equal(["from-0", "from-1"], Directory.EnumerateFiles(store.DataPathOf("g1")).Select(Path.GetFileName).Order());

        for (var generation = 5; generation >= 0; generation--)
        {
            Assert.Equal(DestroyOutcome.Deleted, (await store.DeleteAsync($"g{generation}", TimeSpan.FromSeconds(10), default)).Outcome);
        }
    });

    [DriverFact]
    public async Task A_parent_with_a_live_child_is_not_deleted_until_the_child_is() => await WithStoreAsync(async store =>
    {
        await CreateAsync(store, "parent");
        await File.WriteAllTextAsync(Path.Combine(store.DataPathOf("parent"), "input.txt"), "fetched");
        await CreateAsync(store, "child", "parent");

        var refused = await store.DeleteAsync("parent", TimeSpan.FromSeconds(10), default);

        Assert.Equal(DestroyOutcome.Failed, refused.Outcome);
        Assert.Contains("live children (child)", refused.Error, StringComparison.Ordinal);
        Assert.Equal("fetched", await File.ReadAllTextAsync(Path.Combine(store.DataPathOf("child"), "input.txt")));
        Assert.Equal(DestroyOutcome.Deleted, (await store.DeleteAsync("child", TimeSpan.FromSeconds(10), default)).Outcome);
        Assert.Equal(DestroyOutcome.Deleted, (await store.DeleteAsync("parent", TimeSpan.FromSeconds(10), default)).Outcome);
    });

    [DriverFact]
    public async Task Deleting_leaves_nothing_on_disk_and_no_mount() => await WithStoreAsync(async store =>
    {
        await CreateAsync(store, "parent");
        await File.WriteAllBytesAsync(Path.Combine(store.DataPathOf("parent"), "content.bin"), new byte[100_000]);
        await CreateAsync(store, "child", "parent");
        await File.WriteAllTextAsync(Path.Combine(store.DataPathOf("child"), "output"), "made by the container");

        var results = await store.DeleteAsync(["child", "parent"], TimeSpan.FromSeconds(10), default);

        Assert.All(results, r => Assert.Equal(DestroyOutcome.Deleted, r.Outcome));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(store.Root, "volumes")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(store.Root, "dead")));
        Assert.Empty(Mounts.Under(store.Root));
        Assert.Equal(DestroyOutcome.NotFound, (await store.DeleteAsync("child", TimeSpan.FromSeconds(10), default)).Outcome);
    });

    [DriverFact]
    public async Task After_a_restart_the_volumes_and_their_content_are_back() => await WithStoreAsync(async store =>
    {
        await CreateAsync(store, "parent");
        await File.WriteAllTextAsync(Path.Combine(store.DataPathOf("parent"), "input.txt"), "fetched");
        await CreateAsync(store, "child", "parent");
        await File.WriteAllTextAsync(Path.Combine(store.DataPathOf("child"), "output"), "made");

        var restarted = VolumeStore.Open(store.Root, Driver);

        Assert.Equal(["child", "parent"], restarted.List().Select(v => v.Handle).Order());
        Assert.Equal("fetched", await File.ReadAllTextAsync(Path.Combine(restarted.DataPathOf("child"), "input.txt")));
        Assert.Equal("made", await File.ReadAllTextAsync(Path.Combine(restarted.DataPathOf("child"), "output")));
        Assert.Equal(DestroyOutcome.Failed, (await restarted.DeleteAsync("parent", TimeSpan.FromSeconds(10), default)).Outcome);
    });

    [DriverFact]
    public async Task After_a_reboot_children_are_mounted_again_with_their_content() => await WithStoreAsync(async store =>
    {
        await CreateAsync(store, "parent");
        await File.WriteAllTextAsync(Path.Combine(store.DataPathOf("parent"), "input.txt"), "fetched");
        await CreateAsync(store, "child", "parent");
        await File.WriteAllTextAsync(Path.Combine(store.DataPathOf("child"), "output"), "made");
        await CreateAsync(store, "grandchild", "child");

        // A reboot: every mount is gone, the directories stay.
        Mounts.DetachAllUnder(store.Root);
        var rebooted = VolumeStore.Open(store.Root, Driver);

        Assert.Empty(rebooted.Problems);
        Assert.Equal("fetched", await File.ReadAllTextAsync(Path.Combine(rebooted.DataPathOf("grandchild"), "input.txt")));
        Assert.Equal("made", await File.ReadAllTextAsync(Path.Combine(rebooted.DataPathOf("grandchild"), "output")));
        Assert.Equal("made", await File.ReadAllTextAsync(Path.Combine(rebooted.DataPathOf("child"), "output")));
    });

    [DriverFact]
    public async Task A_child_takes_what_it_changes_and_a_copy_takes_its_parents_size() => await WithStoreAsync(async store =>
    {
        const int ParentBytes = 16 * 1024 * 1024;
        await CreateAsync(store, "parent");
        var content = new byte[ParentBytes];
        new Random(7).NextBytes(content);
        await File.WriteAllBytesAsync(Path.Combine(store.DataPathOf("parent"), "content.bin"), content);

        var freeBefore = PrivateFreeBytes(store.Root);

        await CreateAsync(store, "child", "parent");
        var freeAfter = PrivateFreeBytes(store.Root);
        await File.WriteAllBytesAsync(Path.Combine(store.DataPathOf("child"), "output.bin"), new byte[256 * 1024]);
        var child = await store.MeasureAsync("child", default);

        if (SizeCountsSharedData)
        {
            Assert.True(child!.SizeBytes >= ParentBytes, $"the size counts the parent's data too, not {child.SizeBytes}");
        }
        else
        {
            Assert.InRange(child!.SizeBytes, 256 * 1024, 2 * 1024 * 1024);
        }

        if (freeBefore is { } before && freeAfter is { } after)
        {
            Assert.True(CopyOnWrite ? before - after < 2 * 1024 * 1024 : before - after >= ParentBytes, $"making the child took {before - after} bytes");
        }

        Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(store.DataPathOf("child"), "content.bin")));
    });

    private async Task WithStoreAsync(Func<VolumeStore, Task> test)
    {
        var root = NewRoot();
        try
        {
            await test(VolumeStore.Open(root, Driver));
        }
        finally
        {
            AgentDirectory.Remove(root);
        }
    }

    private static async Task CreateAsync(VolumeStore store, string handle, string? parent = null)
    {
        var (outcome, _) = await store.CreateAsync(handle, parent is null ? VolumeStrategy.Empty : VolumeStrategy.CopyOf(parent), NoProperties, default);
        Assert.Equal(CreateOutcome.Created, outcome);
    }
}

/// <summary>The naive driver: plain directories and full copies; runs everywhere.</summary>
public sealed class NaiveDriverTests : VolumeDriverConformance
{
    public static string? SkipReason => null;

    protected override string Driver => "naive";

    protected override bool CopyOnWrite => false;

    protected override string NewRoot() => Directory.CreateTempSubdirectory("atc-gc-naive-").FullName;
}

/// <summary>The overlay driver: children are overlay mounts. Needs root (to mount) and overlayfs.</summary>
public sealed class OverlayDriverTests : VolumeDriverConformance
{
    public static string? SkipReason { get; } = FindSkipReason();

    protected override string Driver => "overlay";

    protected override bool CopyOnWrite => true;

    protected override string NewRoot() => Directory.CreateTempSubdirectory("atc-gc-overlay-").FullName;

    private static string? FindSkipReason()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return "needs root: the overlay driver mounts";
        }

        var probe = Directory.CreateTempSubdirectory("atc-gc-overlay-probe-").FullName;
        try
        {
            return Atc.Gc.Agent.Drivers.OverlayDriver.Probe(probe) is { } problem ? $"overlay mounts do not work here: {problem}" : null;
        }
        finally
        {
            Directory.Delete(probe, recursive: true);
        }
    }
}

/// <summary>The btrfs driver on a loop-mounted btrfs image. Needs root, mkfs.btrfs and btrfs (btrfs-progs).</summary>
public sealed class BtrfsDriverTests(BtrfsImage image) : VolumeDriverConformance, IClassFixture<BtrfsImage>
{
    public static string? SkipReason => BtrfsImage.Unavailable;

    protected override string Driver => "btrfs";

    protected override bool CopyOnWrite => true;

    protected override string NewRoot() => image.NewDirectory();

    protected override bool SizeCountsSharedData => true;

    protected override long? PrivateFreeBytes(string root)
    {
        Atc.Gc.IntegrationTests.Infrastructure.Command.RequireAsync("btrfs", "filesystem", "sync", root).GetAwaiter().GetResult();
        return Atc.Gc.Agent.Native.FileSystemSpace.Of(root).FreeBytes;
    }
}
