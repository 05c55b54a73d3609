using System.CommandLine;
using Atc.Gc.Database;
using Atc.Gc.Embedded;
using Atc.Gc.Web.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Atc.Gc.Cli;

/// <summary>What every command shares: the --database, --embedded, --config and --verbose options, settings and logging.</summary>
public sealed class CliContext
{
    public Option<string?> Database { get; } = new("--database")
    {
        Description = "PostgreSQL connection string (default: $ATC_GC_DATABASE, then ConnectionStrings:AtcGc)",
        Recursive = true,
    };

    public Option<bool> Embedded { get; } = new("--embedded")
    {
        Description = $"Use the local embedded PostgreSQL cluster (in ${EmbeddedPostgresOptions.DirectoryVariable}, else /var/lib/atc-gc for root, else $XDG_STATE_HOME/atc-gc or ~/.local/state/atc-gc), starting it when it is not running",
        Recursive = true,
    };

    public Option<bool> Verbose { get; } = new("--verbose", "-v")
    {
        Description = "Log progress and diagnostics to stderr",
        Recursive = true,
    };

    public Option<string?> Config { get; } = new("--config")
    {
        Description = "A JSON settings file, above appsettings.json and appsettings.{Environment}.json, below the environment and options",
        Recursive = true,
    };

    /// <summary>
    /// The command's settings (see <see cref="HostConfiguration"/>): built-in defaults (the logging of a
    /// <paramref name="host"/> or of a short command), the appsettings files, <c>--config</c>, the
    /// environment, and <paramref name="options"/> — the command's own options that were given — with
    /// <c>--verbose</c> on top.
    /// </summary>
    public IConfiguration Settings(ParseResult parse, IEnumerable<KeyValuePair<string, string?>>? options = null, bool host = false)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var commandLine = (options ?? []).Concat(parse.GetValue(Verbose) ? HostLogging.Verbose : []);
        try
        {
            return HostConfiguration.Build(parse.GetValue(Config), commandLine, host ? HostLogging.ForHosts : HostLogging.ForCommands);
        }
        catch (Exception ex) when (ex is FileNotFoundException or InvalidDataException or FormatException)
        {
            throw new UsageException(ex is FileNotFoundException ? ex.Message : $"--config: {ex.Message}", ex);
        }
    }

    /// <summary>Logging to stderr for a short command, as its settings say.</summary>
    public ILoggerFactory CreateLoggerFactory(ParseResult parse) => HostLogging.CreateFactory(Settings(parse));

    /// <summary>
    /// The database the command line and configuration name: a connection string, or the embedded cluster
    /// when <c>--embedded</c> is given; null when neither is. Both at once is bad input.
    /// </summary>
    public DatabaseChoice? ChooseDatabase(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var connectionString = DatabaseSettings.Resolve(parse.GetValue(Database), Settings(parse));
        if (!parse.GetValue(Embedded))
        {
            return connectionString is null ? null : DatabaseChoice.Server(connectionString);
        }

        return connectionString is null
            ? DatabaseChoice.EmbeddedCluster
            : throw new UsageException(
                "--embedded cannot be combined with a configured connection string (--database, ATC_GC_DATABASE or ConnectionStrings:AtcGc): choose one database");
    }

    /// <summary>As <see cref="ChooseDatabase"/>, for a command that needs the database: none chosen is exit code 3, and nothing is started.</summary>
    public DatabaseChoice RequireDatabase(ParseResult parse) =>
        ChooseDatabase(parse) ?? throw new DatabaseUnavailableException(DatabaseSettings.NotConfigured);

    /// <summary>
    /// The demo's database: <c>--database</c> when given, otherwise always a fresh database in the embedded
    /// cluster (a connection string in the environment or configuration is not used by the demo).
    /// </summary>
    public DatabaseChoice ChooseDemoDatabase(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var connectionString = parse.GetValue(Database);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return DatabaseChoice.EmbeddedCluster;
        }

        return parse.GetValue(Embedded)
            ? throw new UsageException("--embedded cannot be combined with --database: choose one database")
            : DatabaseChoice.Server(connectionString);
    }

    /// <summary>Opens (and migrates) the database the command line or configuration names; see <see cref="RequireDatabase"/>.</summary>
    public Task<AtcGcDatabase> OpenDatabaseAsync(ParseResult parse, ILoggerFactory loggerFactory, CancellationToken cancellationToken) =>
        OpenDatabaseAsync(RequireDatabase(parse), loggerFactory, cancellationToken);

    /// <summary>
    /// Opens the database the command line or configuration names without migrating it or starting the
    /// embedded cluster (every command but migrate, serve, collect and demo): an older schema, or an
    /// embedded cluster not running, is one line and exit code 3.
    /// </summary>
    public Task<AtcGcDatabase> OpenExistingDatabaseAsync(ParseResult parse, ILoggerFactory loggerFactory, CancellationToken cancellationToken) =>
        RequireDatabase(parse).ConnectionString is { } connectionString
            ? AtcGcDatabase.OpenExistingAsync(connectionString, loggerFactory, cancellationToken)
            : EmbeddedDatabase.OpenExistingAsync(new EmbeddedPostgresOptions { JoinOnly = true }, loggerFactory, cancellationToken);

    /// <summary>Opens (and migrates) the chosen database, starting the embedded cluster only when that is the choice.</summary>
    public static Task<AtcGcDatabase> OpenDatabaseAsync(DatabaseChoice database, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        return database.ConnectionString is { } connectionString
            ? AtcGcDatabase.OpenAsync(connectionString, loggerFactory, cancellationToken)
            : EmbeddedDatabase.OpenAsync(new EmbeddedPostgresOptions(), loggerFactory, cancellationToken);
    }
}

/// <summary>The database a command works against: a server by its connection string, or the local embedded cluster.</summary>
public sealed class DatabaseChoice
{
    private DatabaseChoice(string? connectionString) => ConnectionString = connectionString;

    /// <summary>The embedded cluster (<c>--embedded</c>, or the demo without <c>--database</c>).</summary>
    public static DatabaseChoice EmbeddedCluster { get; } = new(null);

    /// <summary>The server's connection string; null for the embedded cluster.</summary>
    public string? ConnectionString { get; }

    public bool IsEmbedded => ConnectionString is null;

    public static DatabaseChoice Server(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return new DatabaseChoice(connectionString);
    }
}
