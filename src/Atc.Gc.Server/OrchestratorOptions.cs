using System.ComponentModel.DataAnnotations;

namespace Atc.Gc.Server;

/// <summary>The orchestrator host's settings. Bound from the <c>Orchestrator</c> configuration section.</summary>
public sealed class OrchestratorOptions
{
    public const string Section = "Orchestrator";

    /// <summary>The address the API listens on; port 0 picks a free port.</summary>
    public string Listen { get; set; } = "http://127.0.0.1:8080";

    /// <summary>
    /// A handle a worker reports that the database does not know is destroyed only once it is older
    /// than this, so a volume whose row is still being written is never raced.
    /// </summary>
    public TimeSpan UnknownVolumeGrace { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>The largest volume report accepted (a worker with many volumes sends a long list).</summary>
    [Range(1024, 1024L * 1024 * 1024)]
    public long MaxReportBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>The largest body of the other requests.</summary>
    [Range(1024, 64L * 1024 * 1024)]
    public long MaxRequestBytes { get; set; } = 1024 * 1024;
}
