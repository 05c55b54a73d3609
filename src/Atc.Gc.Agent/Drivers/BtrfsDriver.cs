using Atc.Gc.Agent.Native;
using Atc.Gc.Agent.Storage;

namespace Atc.Gc.Agent.Drivers;

/// <summary>
/// Btrfs subvolumes: a volume's <c>data/</c> is a subvolume, a child a snapshot of its parent's (shared
/// blocks, made in constant time). Needs the root on btrfs and the <c>btrfs</c> program (btrfs-progs).
/// A child of a volume that is not a subvolume (made by another driver) is a copy.
/// </summary>
internal sealed class BtrfsDriver : VolumeDriver
{
    public const string Kind = "btrfs";

    public override string Name => Kind;

    public override bool CopyOnWrite => true;

    /// <summary>The btrfs program, or null when btrfs-progs is not installed.</summary>
    public static string? Program { get; } = new[] { "/usr/bin/btrfs", "/bin/btrfs", "/usr/sbin/btrfs", "/sbin/btrfs" }.FirstOrDefault(File.Exists);

    public override async Task<MadeVolume> CreateEmptyAsync(string staging, CancellationToken cancellationToken)
    {
        await RunAsync(cancellationToken, "subvolume", "create", Path.Combine(staging, DataDirectory));
        return new MadeVolume(Kind);
    }

    public override async Task<MadeVolume> CreateChildAsync(string staging, string parentDirectory, VolumeMetadata parent, CancellationToken cancellationToken)
    {
        var source = Path.Combine(parentDirectory, DataDirectory);
        if (parent.DriverName == Kind)
        {
            await RunAsync(cancellationToken, "subvolume", "snapshot", source, Path.Combine(staging, DataDirectory));
            return new MadeVolume(Kind);
        }

        await NaiveDriver.CopyAsync(source, Path.Combine(staging, DataDirectory), cancellationToken);
        return new MadeVolume(NaiveDriver.Kind);
    }

    public override void Remove(string directory, CancellationToken cancellationToken)
    {
        // Deleting the subvolume is one call (the filesystem frees its blocks in the background); what is left is removed file by file.
        var data = Path.Combine(directory, DataDirectory);
        if (Program is not null && Directory.Exists(data))
        {
            var (code, _) = ChildProcesses.Shared.RunAsync(Program, ["subvolume", "delete", data], CancellationToken.None).GetAwaiter().GetResult();
            _ = code; // not a subvolume (a half-made one): the tree removal below handles it
        }

        base.Remove(directory, cancellationToken);
    }

    /// <summary>Why the btrfs driver cannot be used under <paramref name="root"/>; null when it can.</summary>
    public static string? Unavailable(string root) =>
        Program is null ? "the btrfs program (btrfs-progs) is not installed"
        : FileSystemSpace.Of(root).Type != FileSystemSpace.Btrfs ? $"{root} is not on a btrfs filesystem"
        : null;

    private static async Task RunAsync(CancellationToken cancellationToken, params string[] arguments)
    {
        var (code, error) = await ChildProcesses.Shared.RunAsync(Program ?? "btrfs", arguments, cancellationToken);
        if (code != 0)
        {
            throw new IOException($"btrfs {string.Join(' ', arguments)} failed: {error}");
        }
    }
}
