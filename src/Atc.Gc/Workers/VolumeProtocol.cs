using System.Text.Json;
using System.Text.Json.Serialization;

namespace Atc.Gc.Workers;

/// <summary>
/// The worker agent's volume API, as both sides speak it (JSON, camelCase):
/// <c>DELETE /volumes/{handle}</c> answers 204 when deleted and 404 when unknown (both mean gone);
/// <c>POST /volumes/destroy</c> takes <see cref="DestroyVolumesRequest"/> and answers
/// <see cref="DestroyVolumesResponse"/> with one result per handle.
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

public sealed record DestroyVolumesRequest(IReadOnlyList<string> Handles);

public sealed record DestroyVolumesResponse(IReadOnlyList<DestroyVolumeResult> Results);

/// <summary>What happened to one handle of a destroy request.</summary>
public enum DestroyOutcome
{
    Deleted,

    /// <summary>The worker has no such volume: as good as deleted.</summary>
    NotFound,

    Failed,
}

public sealed record DestroyVolumeResult(string Handle, DestroyOutcome Outcome, string? Error = null);
