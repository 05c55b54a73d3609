namespace Atc.Gc.Embedded;

/// <summary>Where and how the private PostgreSQL cluster runs when a process asks for the embedded cluster.</summary>
public sealed class EmbeddedPostgresOptions
{
    /// <summary>Environment variable that moves the cluster's directory.</summary>
    public const string DirectoryVariable = "ATC_GC_EMBEDDED_DIR";

    /// <summary>The default directory when atc-gc runs as root.</summary>
    public const string RootDirectory = "/var/lib/atc-gc";

    /// <summary>
    /// The cluster's directory (private to the user running atc-gc): <c>data/</c> (PGDATA),
    /// <c>run/</c> (the server's only socket), <c>postgres.log</c>, and the worker token secret.
    /// Default: see <see cref="DefaultDirectory"/>.
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

    /// <summary>
    /// Only use a cluster that is already running (a read-only command): never initialize, start,
    /// adopt or stop it, nor create its database; one not running is an <see cref="EmbeddedPostgresException"/>.
    /// </summary>
    public bool JoinOnly { get; set; }

    /// <summary>How long to wait for the server to accept connections.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Extra server settings passed as <c>-c name=value</c> (for example shared_buffers). The socket
    /// settings are fixed; <c>listen_addresses</c> is empty (no TCP listener) unless set here, and a TCP
    /// login needs the <c>postgres</c> role to have a password (scram-sha-256), which it has not unless
    /// one is set.
    /// </summary>
    public IDictionary<string, string> Settings { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// The documented default directory: <c>$ATC_GC_EMBEDDED_DIR</c>; else <c>/var/lib/atc-gc</c> for
    /// root; else <c>$XDG_STATE_HOME/atc-gc</c>, or <c>~/.local/state/atc-gc</c>.
    /// </summary>
    public static string DefaultDirectory() => DefaultDirectoryFor(
        Environment.GetEnvironmentVariable(DirectoryVariable),
        Environment.IsPrivilegedProcess,
        Environment.GetEnvironmentVariable("XDG_STATE_HOME"),
        Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));

    internal static string DefaultDirectoryFor(string? configured, bool root, string? stateHome, string? home)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Path.GetFullPath(configured);
        }

        if (root)
        {
            return RootDirectory;
        }

        // The XDG base directory specification ignores a relative XDG_STATE_HOME.
        if (!string.IsNullOrWhiteSpace(stateHome) && Path.IsPathRooted(stateHome))
        {
            return Path.Combine(stateHome, "atc-gc");
        }

        return !string.IsNullOrWhiteSpace(home) && Path.IsPathRooted(home)
            ? Path.Combine(home, ".local", "state", "atc-gc")
            : throw new EmbeddedPostgresException($"this user has no home directory for the embedded cluster: set {DirectoryVariable}");
    }
}
