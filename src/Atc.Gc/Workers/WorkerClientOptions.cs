using System.ComponentModel.DataAnnotations;

namespace Atc.Gc.Workers;

/// <summary>How the orchestrator calls worker agents. Bound from the <c>Workers</c> configuration section.</summary>
public sealed class WorkerClientOptions : IValidatableObject
{
    public const string Section = "Workers";

    /// <summary>
    /// The secret worker tokens are derived from (<c>Workers__TokenSecret</c>); at least 16 bytes.
    /// Needed to call workers; a dry run does without it.
    /// </summary>
    public string? TokenSecret { get; set; }

    /// <summary>The message for a missing <see cref="TokenSecret"/>.</summary>
    public const string MissingSecret =
        "no worker token secret is configured (Workers:TokenSecret, Workers__TokenSecret or ATC_GC_WORKER_SECRET): it is needed to call worker agents";

    /// <summary>How long one request may take before it counts as failed.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a call may take with its retries.</summary>
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Retries of a request that failed transiently (5xx, 408, 429, timeouts, refused connections).</summary>
    [Range(0, 10)]
    public int Retries { get; set; } = 2;

    /// <summary>How long a worker's circuit stays open after it kept failing; calls fail at once meanwhile.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The networks (CIDR, e.g. <c>10.20.0.0/16</c>) workers may be at; empty allows any address but
    /// those always refused (see <see cref="WorkerNetworkPolicy"/>). Checked at registration and at
    /// every connection to a worker.
    /// </summary>
    public IList<string> AllowedNetworks { get; } = [];

    /// <summary>Further <c>host:port</c> endpoints no worker may be at (an internal admin service, say), besides the orchestrator's listeners and the database.</summary>
    public IList<string> DeniedEndpoints { get; } = [];

    /// <summary>A PEM file of the certificate authority whose certificates workers serve HTTPS with; when set, only it is trusted for worker calls.</summary>
    public string? CaFile { get; set; }

    /// <summary><c>host:port</c> or <c>[v6]:port</c> → (host, port); null when malformed.</summary>
    public static (string Host, int Port)? ParseEndpoint(string? text) =>
        text is not null
        && Uri.TryCreate($"tcp://{text}", UriKind.Absolute, out var url)
        && url.Port is > 0 and <= 65535
        && url.AbsolutePath == "/"
        && text.EndsWith($":{url.Port}", StringComparison.Ordinal)
            ? (url.Host.Trim('[', ']'), url.Port)
            : null;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var network in AllowedNetworks.Where(n => !System.Net.IPNetwork.TryParse(n, out _)))
        {
            yield return new ValidationResult($"Workers:AllowedNetworks entry '{network}' is not a network in CIDR notation (e.g. 10.20.0.0/16)", [nameof(AllowedNetworks)]);
        }

        foreach (var endpoint in DeniedEndpoints.Where(e => ParseEndpoint(e) is null))
        {
            yield return new ValidationResult($"Workers:DeniedEndpoints entry '{endpoint}' is not host:port", [nameof(DeniedEndpoints)]);
        }

        if (CaFile is not null && !File.Exists(CaFile))
        {
            yield return new ValidationResult($"Workers:CaFile '{CaFile}' does not exist", [nameof(CaFile)]);
        }

        if (TokenSecret is not null && System.Text.Encoding.UTF8.GetByteCount(TokenSecret) < WorkerTokens.MinimumSecretLength)
        {
            yield return new ValidationResult($"Workers:TokenSecret must be at least {WorkerTokens.MinimumSecretLength} bytes", [nameof(TokenSecret)]);
        }

        if (AttemptTimeout <= TimeSpan.Zero || TotalTimeout < AttemptTimeout)
        {
            yield return new ValidationResult("Workers:AttemptTimeout must be positive and no longer than Workers:TotalTimeout", [nameof(AttemptTimeout), nameof(TotalTimeout)]);
        }

        if (BreakDuration < TimeSpan.FromSeconds(1))
        {
            yield return new ValidationResult("Workers:BreakDuration must be at least one second", [nameof(BreakDuration)]);
        }
    }
}
