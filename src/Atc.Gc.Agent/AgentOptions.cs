using System.ComponentModel.DataAnnotations;
using Atc.Gc.Model;
using Atc.Gc.Workers;

namespace Atc.Gc.Agent;

/// <summary>A worker agent's settings. Bound from the <c>Agent</c> configuration section.</summary>
public sealed class AgentOptions : IValidatableObject
{
    public const string Section = "Agent";

    /// <summary>The worker's name (the orchestrator knows it by this name).</summary>
    [Required(ErrorMessage = "Agent:Name is required: the worker's name")]
    public string? Name { get; set; }

    /// <summary>The directory volumes live under.</summary>
    [Required(ErrorMessage = "Agent:Root is required: the directory volumes live under")]
    public string? Root { get; set; }

    /// <summary>The address to listen on; port 0 picks a free port.</summary>
    public string Listen { get; set; } = "http://127.0.0.1:7788";

    /// <summary>The address the orchestrator should call; defaults to the address the agent listens on.</summary>
    public Uri? AdvertiseUrl { get; set; }

    /// <summary>This worker's token (<c>atc-gc worker-token &lt;name&gt;</c> prints it): checked on every call, sent on every call to the orchestrator.</summary>
    [Required(ErrorMessage = "Agent:Token is required: the worker's token (ATC_GC_WORKER_TOKEN)")]
    public string? Token { get; set; }

    /// <summary>The orchestrator to register with, heartbeat to and report to; none for a standalone agent.</summary>
    public Uri? Orchestrator { get; set; }

    /// <summary>A PEM file of the certificate authority the orchestrator's HTTPS certificate is issued by; when set, only it is trusted.</summary>
    public string? OrchestratorCaFile { get; set; }

    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Time between full reports (every volume held): the periodic reconciliation with the orchestrator.</summary>
    public TimeSpan ReportInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>After the reaper removed a volume's data, how long to gather further removals before acknowledging them.</summary>
    public TimeSpan ReportDebounce { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How volumes are made: <c>detect</c> (btrfs on btrfs, else overlay where a mount really works, else naive), <c>overlay</c>, <c>naive</c> or <c>btrfs</c>.</summary>
    public string Driver { get; set; } = "detect";

    /// <summary>The most the volumes may take (bytes); reported as the capacity when smaller than the disk. A create past it is refused.</summary>
    [Range(1L, long.MaxValue)]
    public long? MaxBytes { get; set; }

    /// <summary>How long a delete request removes data itself; what is left then is removed by the reaper (the volume answers <c>pending</c>).</summary>
    public TimeSpan DeleteBudget { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The reaper's wait after a first failed removal, doubling per failure up to <see cref="MaxReaperBackoff"/>.</summary>
    public TimeSpan ReaperBackoff { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxReaperBackoff { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often volume sizes are measured again in the background.</summary>
    public TimeSpan SizeInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The most entries one size measurement walks (a volume with more is measured in part).</summary>
    [Range(1000, long.MaxValue)]
    public long SizeWalkLimit { get; set; } = 1_000_000;

    /// <summary>Base resource types this worker provides, as <c>name=image@version</c>.</summary>
    public IList<string> ResourceTypes { get; } = [];

    /// <summary>The largest request body accepted.</summary>
    [Range(1024, 64L * 1024 * 1024)]
    public long MaxRequestBytes { get; set; } = 1024 * 1024;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Name is not null && !WorkerNames.IsValid(Name))
        {
            yield return new ValidationResult($"Agent:Name '{Name}' is not a valid worker name", [nameof(Name)]);
        }

        if (AdvertiseUrl is not null && WorkerBaseUrl.Parse(AdvertiseUrl.OriginalString).Refusal is { } refusal)
        {
            yield return new ValidationResult($"Agent:AdvertiseUrl: {refusal}", [nameof(AdvertiseUrl)]);
        }

        if (OrchestratorCaFile is not null && !File.Exists(OrchestratorCaFile))
        {
            yield return new ValidationResult($"Agent:OrchestratorCaFile '{OrchestratorCaFile}' does not exist", [nameof(OrchestratorCaFile)]);
        }

        foreach (var type in ResourceTypes)
        {
            if (ParseResourceType(type) is null)
            {
                yield return new ValidationResult($"Agent:ResourceTypes entry '{type}' is not name=image@version", [nameof(ResourceTypes)]);
            }
        }

        if (HeartbeatInterval < TimeSpan.FromMilliseconds(100) || ReportInterval < TimeSpan.FromMilliseconds(100))
        {
            yield return new ValidationResult("Agent:HeartbeatInterval and Agent:ReportInterval must be at least 100 ms", [nameof(HeartbeatInterval), nameof(ReportInterval)]);
        }

        if (!Drivers.VolumeDrivers.Choices.Contains(Driver))
        {
            yield return new ValidationResult($"Agent:Driver '{Driver}' is not one of {string.Join(", ", Drivers.VolumeDrivers.Choices)}", [nameof(Driver)]);
        }

        if (DeleteBudget < TimeSpan.Zero || ReaperBackoff <= TimeSpan.Zero || MaxReaperBackoff < ReaperBackoff || SizeInterval < TimeSpan.FromMilliseconds(100))
        {
            yield return new ValidationResult(
                "Agent:DeleteBudget must not be negative, Agent:ReaperBackoff must be positive and at most Agent:MaxReaperBackoff, Agent:SizeInterval at least 100 ms",
                [nameof(DeleteBudget), nameof(ReaperBackoff), nameof(MaxReaperBackoff), nameof(SizeInterval)]);
        }
    }

    public IReadOnlyList<ResourceTypeDto> ParsedResourceTypes() => [.. ResourceTypes.Select(ParseResourceType).OfType<ResourceTypeDto>()];

    /// <summary><c>git=registry/git-resource@1.2</c> → (git, registry/git-resource, 1.2); null when malformed.</summary>
    public static ResourceTypeDto? ParseResourceType(string text)
    {
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        var at = text.LastIndexOf('@');
        return equals > 0 && at > equals + 1 && at < text.Length - 1
            ? new ResourceTypeDto(text[..equals], text[(equals + 1)..at], text[(at + 1)..])
            : null;
    }
}
