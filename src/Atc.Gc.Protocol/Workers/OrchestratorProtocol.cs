namespace Atc.Gc.Workers;

/// <summary>
/// The orchestrator's API for worker agents (JSON, camelCase; errors are problem+json). Every route
/// needs <c>Authorization: Bearer &lt;token&gt;</c> with the token of the worker named in the path.
/// <list type="bullet">
/// <item><c>PUT /api/v1/workers/{name}</c>: register or heartbeat (<see cref="RegisterWorkerRequest"/> → <see cref="WorkerDto"/>);</item>
/// <item><c>PUT /api/v1/workers/{name}/volumes/report</c>: the volumes the worker holds
/// (<see cref="VolumeReportRequest"/> → <see cref="VolumeReportResponse"/>, whose <c>destroy</c> lists
/// handles the worker should delete); at most one per worker at a time (429 with Retry-After otherwise);</item>
/// <item><c>POST /api/v1/workers/{name}/volumes/gone</c>: volumes whose data the worker removed since it last said so
/// (<see cref="VolumesGoneRequest"/> → <see cref="VolumesGoneResponse"/>); used only to confirm destroying volumes gone;</item>
/// <item><c>POST /api/v1/workers/{name}/land</c>, <c>/retire</c>: the worker is going away for a while, or for good.</item>
/// </list>
/// </summary>
public static class OrchestratorProtocol
{
    public static string WorkerPath(string name) => $"api/v1/workers/{Uri.EscapeDataString(name)}";

    public static string ReportPath(string name) => $"{WorkerPath(name)}/volumes/report";

    public static string GonePath(string name) => $"{WorkerPath(name)}/volumes/gone";

    /// <summary>The most handles one <see cref="VolumesGoneRequest"/> may carry.</summary>
    public const int MaxGonePerRequest = 1000;

    public static string LandPath(string name) => $"{WorkerPath(name)}/land";

    public static string RetirePath(string name) => $"{WorkerPath(name)}/retire";
}

public sealed record ResourceTypeDto(string Name, string Image, string Version);

/// <param name="Heartbeat">False on the first registration after the agent starts, true afterwards (a landed worker stays landed on heartbeats).</param>
/// <param name="InstallationId">The database identity the agent recorded at an earlier registration; null the first time.</param>
/// <param name="Disk">The worker's disk for volumes (capacity, free space, what its volumes take); null when unknown.</param>
public sealed record RegisterWorkerRequest(
    string BaseUrl, IReadOnlyList<ResourceTypeDto>? ResourceTypes = null, bool Heartbeat = false, Guid? InstallationId = null, WorkerDiskDto? Disk = null);

/// <summary>A worker's disk for volumes, by its agent (<c>statfs</c>, within the agent's cap): bytes.</summary>
/// <param name="VolumesBytes">What the worker's volumes take, as its agent last measured them.</param>
public sealed record WorkerDiskDto(long CapacityBytes, long FreeBytes, long VolumesBytes);

/// <param name="InstallationId">This orchestrator's database identity.</param>
/// <param name="Trusted">The agent may record <paramref name="InstallationId"/> as its own (false while it is held for knowing another).</param>
/// <param name="ServerTime">The database's clock when the answer was made: the agent sends it back as <c>listedAfter</c> with a report whose listing it took afterwards.</param>
/// <param name="Hold">Why the worker's unknown volumes are not destroyed, until an operator runs <c>atc-gc adopt-worker</c>; null when they are.</param>
public sealed record WorkerDto(
    string Name,
    string State,
    string? BaseUrl,
    DateTimeOffset HeartbeatAt,
    IReadOnlyList<ResourceTypeDto> ResourceTypes,
    Guid? InstallationId = null,
    bool Trusted = false,
    DateTimeOffset? ServerTime = null,
    string? Hold = null);

/// <summary>A volume the worker holds, with its age by the worker's own clock (no clock skew between hosts).</summary>
/// <param name="SizeBytes">The disk space it takes, as the agent last measured it; null when unknown.</param>
public sealed record ReportedVolumeDto(string Handle, double AgeSeconds, long? SizeBytes = null);

/// <summary>The volumes a worker holds, as its agent listed them.</summary>
/// <param name="ListedAfter">
/// A <c>serverTime</c> the agent received before it started listing. The orchestrator judges only
/// volumes whose last change is older than this: one made after the listing is never marked missing,
/// and a destroying one is confirmed gone only when the listing could have seen it. Without it the
/// report marks and confirms nothing.
/// </param>
/// <param name="Deleting">Handles whose data the agent is still removing: not gone yet.</param>
public sealed record VolumeReportRequest(
    IReadOnlyList<ReportedVolumeDto> Volumes, DateTimeOffset? ListedAfter = null, IReadOnlyList<string>? Deleting = null);

/// <param name="Destroy">Handles the orchestrator does not know (older than its grace): the worker should delete them.</param>
/// <param name="ConfirmedGone">Destroying volumes no longer reported, whose rows were removed.</param>
/// <param name="Missing">Known volumes the worker did not report (newly marked missing).</param>
/// <param name="Recovered">Volumes marked missing that the worker reported again.</param>
/// <param name="ServerTime">The database's clock when the report was applied (for the next report's <c>listedAfter</c>).</param>
/// <param name="InstallationId">This orchestrator's database identity: an agent that recorded another deletes nothing it is told to.</param>
/// <param name="Hold">Why unknown handles were kept rather than listed in <paramref name="Destroy"/>; null when none were.</param>
public sealed record VolumeReportResponse(
    IReadOnlyList<string> Destroy,
    int ConfirmedGone,
    int Missing,
    int Recovered,
    DateTimeOffset? ServerTime = null,
    Guid? InstallationId = null,
    string? Hold = null);

/// <summary>Handles whose data the worker removed (at most <see cref="OrchestratorProtocol.MaxGonePerRequest"/>).</summary>
public sealed record VolumesGoneRequest(IReadOnlyList<string> Handles);

/// <param name="ConfirmedGone">Destroying volumes among the handles, whose rows were removed.</param>
/// <param name="ServerTime">The database's clock when the acknowledgement was applied.</param>
public sealed record VolumesGoneResponse(int ConfirmedGone, DateTimeOffset? ServerTime = null);
