using System.Text.Json;

namespace Atc.Gc.Agent.Storage;

/// <summary>
/// A volume's <c>volume.json</c>: what it is and how it was made. <see cref="Driver"/> and
/// <see cref="Layers"/> are absent in volumes made before drivers existed (plain directories).
/// </summary>
/// <param name="Driver">The driver that made it (<c>naive</c>, <c>overlay</c>, <c>btrfs</c>).</param>
/// <param name="Layers">
/// For an overlay child: the read-only layers under its own, nearest first, as paths relative to the
/// root (the parent's own layer, then the parent's layers). Null for a volume whose <c>data/</c> is a plain directory.
/// </param>
internal sealed record VolumeMetadata(
    string Handle,
    DateTimeOffset CreatedAt,
    string? Parent,
    Dictionary<string, string> Properties,
    string? Driver = null,
    IReadOnlyList<string>? Layers = null)
{
    public const string FileName = "volume.json";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The driver to ask about this volume (volumes from before drivers are plain copies).</summary>
    public string DriverName => Driver ?? Drivers.NaiveDriver.Kind;

    /// <summary>True when <c>data/</c> is a mount of <see cref="Layers"/> under an upper layer of its own.</summary>
    public bool IsOverlay => Layers is not null;

    public static VolumeMetadata? Read(string volumeDirectory)
    {
        try
        {
            return JsonSerializer.Deserialize<VolumeMetadata>(File.ReadAllText(Path.Combine(volumeDirectory, FileName)), Json);
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public async Task WriteAsync(string volumeDirectory, CancellationToken cancellationToken) =>
        await File.WriteAllTextAsync(Path.Combine(volumeDirectory, FileName), JsonSerializer.Serialize(this, Json), cancellationToken);
}
