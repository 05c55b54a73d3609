namespace Atc.Gc.Agent;

/// <summary>A volume on this worker's disk.</summary>
/// <param name="SizeBytes">The disk space the volume itself takes (a copy-on-write child: what it changed), as last measured.</param>
public sealed record VolumeInfo(string Handle, long SizeBytes, DateTimeOffset CreatedAt, string? Parent, IReadOnlyDictionary<string, string> Properties);

/// <summary>How a new volume starts: empty, or a copy-on-write child of a parent's content.</summary>
public sealed record VolumeStrategy(string Type, string? Parent = null)
{
    public static VolumeStrategy Empty { get; } = new("empty");

    public static VolumeStrategy CopyOf(string parent) => new("cow", parent);
}

/// <summary>What became of a create.</summary>
public enum CreateOutcome
{
    Created,
    AlreadyExists,
    ParentNotFound,

    /// <summary>The parent exists but its data cannot be used (it could not be mounted again after a restart).</summary>
    ParentUnusable,

    /// <summary>It would take the volumes past <c>Agent:MaxBytes</c>.</summary>
    NoSpace,
}

/// <summary>The disk as the agent's volumes see it.</summary>
/// <param name="CapacityBytes">The filesystem's size, or <c>Agent:MaxBytes</c> when that is smaller.</param>
/// <param name="FreeBytes">What volumes may still take: the filesystem's free space, within the cap.</param>
/// <param name="VolumesBytes">What the volumes take, as last measured.</param>
internal sealed record DiskFigures(long CapacityBytes, long FreeBytes, long VolumesBytes);

/// <summary>What a start found: volumes, volumes mounted again, volumes whose data could not be brought back, leftovers and those removed at once.</summary>
internal sealed record RecoverySummary(int Volumes, int Remounted, int Problems, int Leftovers, int LeftoversRemoved);

/// <summary>A volume directory the reaper still has to remove, as health and metrics show it.</summary>
/// <param name="Handle">The volume's handle (null for a leftover that is not a volume's).</param>
/// <param name="Path">Its directory, relative to the root (<c>dead/&lt;handle&gt;.&lt;id&gt;</c>).</param>
/// <param name="Attempts">Removals tried and failed.</param>
/// <param name="Error">Why the last removal failed; null while none has.</param>
internal sealed record Leftover(string? Handle, string Path, int Attempts, string? Error, DateTimeOffset Since, DateTimeOffset? NextAttempt);
