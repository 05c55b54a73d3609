namespace Atc.Gc.Workers;

/// <summary>
/// The orchestrator's API for worker agents (JSON, camelCase; errors are problem+json). Every route
/// needs <c>Authorization: Bearer &lt;token&gt;</c> with the token of the worker named in the path.
/// <list type="bullet">
/// <item><c>PUT /api/v1/workers/{name}</c>: register or heartbeat (<see cref="RegisterWorkerRequest"/> → <see cref="WorkerDto"/>);</item>
/// <item><c>PUT /api/v1/workers/{name}/volumes/report</c>: the volumes the worker holds
/// (<see cref="VolumeReportRequest"/> → <see cref="VolumeReportResponse"/>, whose <c>destroy</c> lists
/// handles the worker should delete);</item>
/// <item><c>POST /api/v1/workers/{name}/land</c>, <c>/retire</c>: the worker is going away for a while, or for good.</item>
/// </list>
/// </summary>
public static class OrchestratorProtocol
{
    public static string WorkerPath(string name) => $"api/v1/workers/{Uri.EscapeDataString(name)}";

    public static string ReportPath(string name) => $"{WorkerPath(name)}/volumes/report";

    public static string LandPath(string name) => $"{WorkerPath(name)}/land";

    public static string RetirePath(string name) => $"{WorkerPath(name)}/retire";
}

public sealed record ResourceTypeDto(string Name, string Image, string Version);

/// <param name="Heartbeat">False on the first registration after the agent starts, true afterwards (a landed worker stays landed on heartbeats).</param>
public sealed record RegisterWorkerRequest(string BaseUrl, IReadOnlyList<ResourceTypeDto>? ResourceTypes = null, bool Heartbeat = false);

public sealed record WorkerDto(string Name, string State, string? BaseUrl, DateTimeOffset HeartbeatAt, IReadOnlyList<ResourceTypeDto> ResourceTypes);

/// <summary>A volume the worker holds, with its age by the worker's own clock (no clock skew between hosts).</summary>
public sealed record ReportedVolumeDto(string Handle, double AgeSeconds);

public sealed record VolumeReportRequest(IReadOnlyList<ReportedVolumeDto> Volumes);

/// <param name="Destroy">Handles the orchestrator does not know (older than its grace): the worker should delete them.</param>
/// <param name="ConfirmedGone">Destroying volumes no longer reported, whose rows were removed.</param>
/// <param name="Missing">Known volumes the worker did not report (newly marked missing).</param>
/// <param name="Recovered">Volumes marked missing that the worker reported again.</param>
public sealed record VolumeReportResponse(IReadOnlyList<string> Destroy, int ConfirmedGone, int Missing, int Recovered);
