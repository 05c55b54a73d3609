using System.Text.Json;
using System.Text.Json.Serialization;

namespace Atc.Gc.Workers;

/// <summary>
/// The worker agent's volume API, as both sides speak it (JSON, camelCase; errors are problem+json):
/// <list type="bullet">
/// <item><c>POST /volumes</c> takes <see cref="CreateVolumeRequest"/>, answers 201 with <see cref="VolumeDto"/>
/// (409 when the handle exists or the parent's data is not usable, 404 when a copy-on-write parent does not,
/// 507 when the volumes would take more than the agent may use);</item>
/// <item><c>GET /volumes</c> answers <see cref="VolumeListResponse"/>; <c>GET /volumes/{handle}</c> one <see cref="VolumeDto"/>;</item>
/// <item><c>DELETE /volumes/{handle}</c> answers 204 when deleted and 404 when unknown (both mean gone), 202 while
/// its data is still being removed (not gone), 409 while it has children;</item>
/// <item><c>POST /volumes/destroy</c> takes <see cref="DestroyVolumesRequest"/> and answers
/// <see cref="DestroyVolumesResponse"/> with one result per handle.</item>
/// </list>
/// Every route but <c>GET /health</c> needs <c>Authorization: Bearer &lt;worker token&gt;</c>.
/// </summary>
public static class VolumeProtocol
{
    public const string VolumesPath = "volumes";

    public const string DestroyPath = "volumes/destroy";

    /// <summary>The most handles one destroy request may carry.</summary>
    public const int MaxHandlesPerDestroy = 1000;

    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };
}

/// <summary>How a new volume starts: <c>empty</c>, or <c>cow</c> with the parent's handle.</summary>
public sealed record VolumeStrategyDto(string Type, string? Parent = null);

public sealed record CreateVolumeRequest(string Handle, VolumeStrategyDto? Strategy = null, IReadOnlyDictionary<string, string>? Properties = null);

public sealed record VolumeDto(string Handle, long SizeBytes, DateTimeOffset CreatedAt, string? Parent, IReadOnlyDictionary<string, string> Properties);

public sealed record VolumeListResponse(IReadOnlyList<VolumeDto> Volumes);

public sealed record DestroyVolumesRequest(IReadOnlyList<string> Handles);

public sealed record DestroyVolumesResponse(IReadOnlyList<DestroyVolumeResult> Results);

/// <summary>What happened to one handle of a destroy request.</summary>
public enum DestroyOutcome
{
    Deleted,

    /// <summary>The worker has no such volume, and no data of it left: as good as deleted.</summary>
    NotFound,

    Failed,

    /// <summary>
    /// Out of the listing, but its data is still being removed: not gone yet. The collector asks again;
    /// the answer becomes <see cref="Deleted"/> or <see cref="NotFound"/> once nothing is left on disk.
    /// </summary>
    Pending,
}

public sealed record DestroyVolumeResult(string Handle, DestroyOutcome Outcome, string? Error = null);
