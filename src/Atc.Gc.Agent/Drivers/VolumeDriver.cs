using Atc.Gc.Agent.Storage;

namespace Atc.Gc.Agent.Drivers;

/// <summary>What a driver made: which driver's volume it is, and its read-only layers when it is an overlay.</summary>
internal sealed record MadeVolume(string Driver, IReadOnlyList<string>? Layers = null);

/// <summary>
/// How volumes are made on disk (a strategy, as baggageclaim's drivers are). A volume is a directory
/// with <c>data/</c> (what a container mounts) and <c>volume.json</c>; a driver makes <c>data/</c> in a
/// staging directory (the store renames it into place), brings it back after a restart, and takes it
/// apart when it is deleted. Every driver can make an empty volume and a child of any volume.
/// </summary>
internal abstract class VolumeDriver
{
    public const string DataDirectory = "data";

    /// <summary>The driver's name, recorded in every volume it makes.</summary>
    public abstract string Name { get; }

    /// <summary>True when a child costs about nothing whatever its parent's size (no copy).</summary>
    public abstract bool CopyOnWrite { get; }

    /// <summary>Makes <c>data/</c> of a new empty volume in <paramref name="staging"/>.</summary>
    public abstract Task<MadeVolume> CreateEmptyAsync(string staging, CancellationToken cancellationToken);

    /// <summary>Makes <c>data/</c> in <paramref name="staging"/> a copy-on-write child of the volume in <paramref name="parentDirectory"/>.</summary>
    public abstract Task<MadeVolume> CreateChildAsync(string staging, string parentDirectory, VolumeMetadata parent, CancellationToken cancellationToken);

    /// <summary>After a restart or a reboot: makes a volume this driver made usable again (remounts it).</summary>
    public virtual void Recover(string directory, VolumeMetadata metadata, IReadOnlySet<string> mountPoints)
    {
    }

    /// <summary>Takes a deleted volume's data out of use at once, before it is removed (unmounts it). Quick.</summary>
    public virtual void Detach(string directory, VolumeMetadata metadata)
    {
    }

    /// <summary>Removes a volume directory (moved out of the listing) and everything under it.</summary>
    public virtual void Remove(string directory, CancellationToken cancellationToken) => Tree.Remove(directory, cancellationToken);

    /// <summary>The directory holding what this volume itself stores (what its size counts).</summary>
    public virtual string OwnLayer(string directory, VolumeMetadata metadata) => Path.Combine(directory, DataDirectory);

    /// <summary>
    /// The layer a child of <paramref name="parent"/> reads, as a path relative to <paramref name="root"/>
    /// (an overlay child's upper layer; otherwise its data), followed by the parent's own layers.
    /// </summary>
    internal static IReadOnlyList<string> LayersOfChild(string root, string parentDirectory, VolumeMetadata parent) =>
        parent.Layers is { } layers
            ? [Path.GetRelativePath(root, Path.Combine(parentDirectory, OverlayDriver.UpperDirectory)), .. layers]
            : [Path.GetRelativePath(root, Path.Combine(parentDirectory, DataDirectory))];
}
