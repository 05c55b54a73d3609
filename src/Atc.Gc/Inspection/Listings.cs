namespace Atc.Gc.Inspection;

public sealed record VolumeListing(
    long Id,
    string Handle,
    string Worker,
    string State,
    long? ContainerId,
    long? ResourceCacheId,
    long? WorkerBaseResourceTypeId,
    long? TaskCacheId,
    long? ParentId,
    long Children,
    DateTimeOffset CreatedAt,
    DateTimeOffset StateChangedAt,
    DateTimeOffset? MissingSince,
    int DeleteAttempts,
    string? LastDeleteError,
    long? SizeBytes = null)
{
    public bool Orphaned => ContainerId is null && ResourceCacheId is null && WorkerBaseResourceTypeId is null && TaskCacheId is null && Children == 0;
}

public sealed record ContainerListing(long Id, string Handle, string Worker, string State, long? BuildId, string? BuildStatus, string? Job, long? ResourceConfigId, long Volumes);

/// <param name="Hold">Why the worker's unknown volumes are kept (<c>kind: detail</c>) until <c>atc-gc adopt-worker</c>; null when they are not.</param>
/// <param name="DiskCapacityBytes">The worker's disk for volumes, as its agent last reported it with a heartbeat (null before it did).</param>
/// <param name="DiskVolumesBytes">What its volumes take, by its agent.</param>
public sealed record WorkerListing(
    string Name, string State, string? BaseUrl, DateTimeOffset HeartbeatAt, long Containers, long Volumes,
    long Creating, long Created, long Initializing, long Initialized, long Destroying, long Failed, string? Hold = null,
    long? DiskCapacityBytes = null, long? DiskFreeBytes = null, long? DiskVolumesBytes = null);

public sealed record CacheListing(
    long Id, long ResourceConfigId, string Type, string Version, string? Resources, long Uses, long RunningUses, long Volumes, DateTimeOffset CreatedAt);

/// <summary>A page of rows and how many there are in all.</summary>
public sealed record Page<T>(IReadOnlyList<T> Rows, long Total);
