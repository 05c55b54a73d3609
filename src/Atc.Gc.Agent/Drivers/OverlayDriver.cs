using System.Text;
using Atc.Gc.Agent.Native;
using Atc.Gc.Agent.Storage;

namespace Atc.Gc.Agent.Drivers;

/// <summary>
/// Overlayfs: an empty volume is a plain directory; a child is an overlay mount whose lower layers are
/// its parent's — the parent's own layer (its data, or its upper layer when it is a child itself) and
/// the parent's lower layers — with an upper layer of its own for what it changes. A child therefore
/// costs a few directories and a mount whatever its parent's size.
/// <para>
/// Chains are flattened, not stacked: a grandchild mounts the layers themselves, never its parent's
/// mount. Overlayfs refuses to stack more than two deep (the kernel's filesystem stack depth), every
/// stacked level adds a lookup, and a flattened chain can be remounted in any order after a reboot
/// because no mount depends on another. A chain is limited by the mount options one page can hold
/// (and the kernel's 500 layers); a child beyond that is made as a copy instead.
/// </para>
/// </summary>
internal sealed class OverlayDriver(string root) : VolumeDriver
{
    public const string Kind = "overlay";
    public const string UpperDirectory = "upper";
    public const string WorkDirectory = "work";

    /// <summary>The most layers a child reads through (the kernel allows 500).</summary>
    public const int MaxLayers = 128;

    /// <summary>Mount options are one page; keep well within it.</summary>
    private const int MaxOptionsLength = 3800;

    public override string Name => Kind;

    public override bool CopyOnWrite => true;

    public override Task<MadeVolume> CreateEmptyAsync(string staging, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.Combine(staging, DataDirectory));
        return Task.FromResult(new MadeVolume(Kind));
    }

    public override async Task<MadeVolume> CreateChildAsync(string staging, string parentDirectory, VolumeMetadata parent, CancellationToken cancellationToken)
    {
        var layers = LayersOfChild(root, parentDirectory, parent);
        var options = layers.Count <= MaxLayers ? Options(staging, layers) : null;
        if (options is null || options.Length > MaxOptionsLength)
        {
            // Too deep a chain for one mount: start a new chain from a copy of the parent's content.
            await NaiveDriver.CopyAsync(Path.Combine(parentDirectory, DataDirectory), Path.Combine(staging, DataDirectory), cancellationToken);
            return new MadeVolume(Kind);
        }

        foreach (var directory in (string[])[UpperDirectory, WorkDirectory, DataDirectory])
        {
            Directory.CreateDirectory(Path.Combine(staging, directory));
        }

        Mounts.Mount("overlay", Path.Combine(staging, DataDirectory), options);
        return new MadeVolume(Kind, layers);
    }

    public override void Recover(string directory, VolumeMetadata metadata, IReadOnlySet<string> mountPoints)
    {
        var data = Path.Combine(directory, DataDirectory);
        if (metadata.Layers is not { } layers || mountPoints.Contains(data))
        {
            return;
        }

        var missing = layers.Select(l => Path.Combine(root, l)).FirstOrDefault(l => !Directory.Exists(l));
        if (missing is not null)
        {
            throw new IOException($"cannot mount {data} again: its layer {missing} is gone");
        }

        // Whatever the work directory held belonged to the mount before the reboot.
        Directory.CreateDirectory(Path.Combine(directory, WorkDirectory));
        Mounts.Mount("overlay", data, Options(directory, layers));
    }

    public override void Detach(string directory, VolumeMetadata metadata)
    {
        if (metadata.IsOverlay)
        {
            Mounts.Detach(Path.Combine(directory, DataDirectory));
        }
    }

    public override string OwnLayer(string directory, VolumeMetadata metadata) =>
        Path.Combine(directory, metadata.IsOverlay ? UpperDirectory : DataDirectory);

    /// <summary>
    /// Whether overlay mounts work under <paramref name="root"/> (the kernel has overlayfs, the agent may
    /// mount, the filesystem can hold an upper layer): null when they do, otherwise why not. It really mounts.
    /// </summary>
    public static string? Probe(string root)
    {
        var probe = Path.Combine(root, "creating", $"probe-{Guid.NewGuid():N}");
        try
        {
            foreach (var directory in (string[])["lower", UpperDirectory, WorkDirectory, DataDirectory])
            {
                Directory.CreateDirectory(Path.Combine(probe, directory));
            }

            File.WriteAllText(Path.Combine(probe, "lower", "probe"), "lower");
            var data = Path.Combine(probe, DataDirectory);
            Mounts.Mount("overlay", data, Options(probe, [Path.GetRelativePath(root, Path.Combine(probe, "lower"))], root));
            try
            {
                File.WriteAllText(Path.Combine(data, "probe"), "upper");
                return File.ReadAllText(Path.Combine(probe, UpperDirectory, "probe")) == "upper" &&
                       File.ReadAllText(Path.Combine(probe, "lower", "probe")) == "lower"
                    ? null
                    : "an overlay mount did not keep its layers apart";
            }
            finally
            {
                Mounts.Detach(data);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or DllNotFoundException or EntryPointNotFoundException)
        {
            return ex.Message;
        }
        finally
        {
            try
            {
                Tree.Remove(probe);
            }
            catch (IOException)
            {
                // left for the reaper on the next start
            }
        }
    }

    private string Options(string directory, IReadOnlyList<string> layers) => Options(directory, layers, root);

    private static string Options(string directory, IReadOnlyList<string> layers, string root)
    {
        var options = new StringBuilder("lowerdir=");
        options.AppendJoin(':', layers.Select(l => Escape(Path.Combine(root, l))));
        options.Append(",upperdir=").Append(Escape(Path.Combine(directory, UpperDirectory)));
        options.Append(",workdir=").Append(Escape(Path.Combine(directory, WorkDirectory)));
        return options.ToString();
    }

    /// <summary>Overlayfs separates layers with ':' and options with ','; a backslash escapes them.</summary>
    private static string Escape(string path) =>
        path.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(":", "\\:", StringComparison.Ordinal).Replace(",", "\\,", StringComparison.Ordinal);
}
