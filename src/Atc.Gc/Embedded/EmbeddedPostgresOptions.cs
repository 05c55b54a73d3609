namespace Atc.Gc.Embedded;

/// <summary>Where and how the private PostgreSQL cluster runs when no connection string is configured.</summary>
public sealed class EmbeddedPostgresOptions
{
    /// <summary>Environment variable that moves the cluster's directory.</summary>
    public const string DirectoryVariable = "ATC_GC_EMBEDDED_DIR";

    /// <summary>
    /// The cluster's directory: <c>data/</c> (PGDATA), <c>run/</c> (socket), <c>postgres.log</c>.
    /// Default: <c>$ATC_GC_EMBEDDED_DIR</c>, else <c>/var/tmp/atc-gc-&lt;user&gt;/pg&lt;major&gt;</c>.
    /// </summary>
    public string? Directory { get; set; }

    /// <summary>The database created in the cluster for Atc.Gc.</summary>
    public string Database { get; set; } = "atc_gc";

    /// <summary>Drop <see cref="Database"/> and create it empty (the demo starts from nothing each run).</summary>
    public bool FreshDatabase { get; set; }

    /// <summary>
    /// A throwaway cluster (tests, benchmarks): durability off (fsync, full page writes) for speed,
    /// and the directory removed when the cluster stops.
    /// </summary>
    public bool Ephemeral { get; set; }

    /// <summary>How long to wait for the server to accept connections.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Extra server settings passed as <c>-c name=value</c> (for example shared_buffers).</summary>
    public IDictionary<string, string> Settings { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The documented default directory for a server of the given major version.</summary>
    public static string DefaultDirectory(int majorVersion)
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return Path.GetFullPath(fromEnvironment);
        }

        return Path.Combine("/var/tmp", $"atc-gc-{Environment.UserName}", $"pg{majorVersion}");
    }
}
