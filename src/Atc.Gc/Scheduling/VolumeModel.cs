using Atc.Gc.Lifecycle;

namespace Atc.Gc.Scheduling;

/// <summary>
/// The owner columns of a volume. Each is set NULL when its owner row is deleted; a volume with none
/// set (and no children) is an orphan.
/// </summary>
public sealed record VolumeOwners(long? ContainerId = null, long? ResourceCacheId = null, long? WorkerBaseResourceTypeId = null, long? TaskCacheId = null)
{
    public static VolumeOwners None { get; } = new();

    public bool Any => ContainerId is not null || ResourceCacheId is not null || WorkerBaseResourceTypeId is not null || TaskCacheId is not null;

    public static VolumeOwners Container(long containerId) => new(ContainerId: containerId);

    public static VolumeOwners ResourceCache(long resourceCacheId) => new(ResourceCacheId: resourceCacheId);

    public static VolumeOwners BaseResourceType(long workerBaseResourceTypeId) => new(WorkerBaseResourceTypeId: workerBaseResourceTypeId);

    public static VolumeOwners TaskCache(long taskCacheId) => new(TaskCacheId: taskCacheId);
}

public sealed record Volume(
    long Id,
    string Handle,
    string WorkerName,
    VolumeState State,
    VolumeOwners Owners,
    long? ParentId,
    DateTimeOffset? MissingSince,
    DateTimeOffset CreatedAt,
    DateTimeOffset StateChangedAt);

/// <summary>How an attempt to create a volume ended.</summary>
public enum CreateVolumeOutcome
{
    Created,

    /// <summary>The parent is not initialized (it is being destroyed, or not ready yet): make the child elsewhere.</summary>
    ParentNotReady,

    ParentNotFound,

    /// <summary>An owner row named in the request does not exist (any more).</summary>
    OwnerGone,

    UnknownWorker,

    HandleTaken,
}

/// <param name="Volume">The new volume when <see cref="Outcome"/> is <see cref="CreateVolumeOutcome.Created"/>.</param>
/// <param name="Detail">Why it was not created.</param>
public sealed record CreateVolumeResult(CreateVolumeOutcome Outcome, Volume? Volume, string? Detail = null)
{
    public bool Succeeded => Outcome == CreateVolumeOutcome.Created;
}

/// <summary>How an attempt to give an existing volume more owners ended.</summary>
public enum AttachOwnersOutcome
{
    Attached,

    NotFound,

    /// <summary>The volume is being destroyed (or failed); it cannot be kept any more.</summary>
    Destroying,

    OwnerGone,

    /// <summary>An owner column asked for is already set to another row (another container mounted it): nothing was changed.</summary>
    OwnedByAnother,
}
