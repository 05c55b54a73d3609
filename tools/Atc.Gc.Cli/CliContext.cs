using System.CommandLine;
using Atc.Gc.Database;
using Atc.Gc.Embedded;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Atc.Gc.Cli;

/// <summary>What every command shares: the --database and --embedded options, configuration and logging to stderr.</summary>
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

    /// <summary>appsettings.json in the working directory, then environment variables (<c>Collector__Interval</c>, ...).</summary>
    public IConfiguration Configuration { get; } = BuildConfiguration();

    /// <summary>Shorthands that operators set as plain environment variables.</summary>
    private static readonly Dictionary<string, string> Shorthands = new(StringComparer.Ordinal)
    {
        ["ATC_GC_WORKER_SECRET"] = "Workers:TokenSecret",
    };

    private static IConfiguration BuildConfiguration()
    {
        var shorthand = Shorthands
            .Select(s => (Key: s.Value, Value: Environment.GetEnvironmentVariable(s.Key)))
            .Where(s => !string.IsNullOrEmpty(s.Value))
            .ToDictionary(s => s.Key, s => s.Value);
        return new ConfigurationBuilder()
            .AddJsonFile("appsettings.json", optional: true)
            .AddInMemoryCollection(shorthand)
            .AddEnvironmentVariables()
            .Build();
    }

    public ILoggerFactory CreateLoggerFactory(ParseResult parse) => LoggerFactory.Create(logging => logging
        .AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss ";
        })
        .AddFilter(level => level >= (parse.GetValue(Verbose) ? LogLevel.Debug : LogLevel.Warning))
        .AddFilter("Npgsql", LogLevel.Warning)
        .AddFilter("FluentMigrator", parse.GetValue(Verbose) ? LogLevel.Information : LogLevel.Warning)
        .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));

    /// <summary>Logging for long-running hosts (serve, worker, demo): one line per event on stdout, information and up.</summary>
    public void ConfigureHostLogging(ILoggingBuilder logging, ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(logging);
        var verbose = parse.GetValue(Verbose);
        logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss ";
        });
        logging.SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Information);
        logging.AddFilter("Microsoft", verbose ? LogLevel.Information : LogLevel.Warning);
        logging.AddFilter("System.Net.Http", LogLevel.Warning);
        // Each failed attempt is logged by the collector as one line; the resilience pipeline's own events only with --verbose.
        logging.AddFilter("Polly", verbose ? LogLevel.Warning : LogLevel.None);
        logging.AddFilter("Npgsql", LogLevel.Warning);
    }

    /// <summary>
    /// The database the command line and configuration name: a connection string, or the embedded cluster
    /// when <c>--embedded</c> is given; null when neither is. Both at once is bad input.
    /// </summary>
    public DatabaseChoice? ChooseDatabase(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var connectionString = DatabaseSettings.Resolve(parse.GetValue(Database), Configuration);
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

    /// <summary>Opens (and migrates) the chosen database, starting the embedded cluster only when that is the choice.</summary>
    public static Task<AtcGcDatabase> OpenDatabaseAsync(DatabaseChoice database, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        return database.ConnectionString is { } connectionString
            ? AtcGcDatabase.OpenAsync(connectionString, loggerFactory, cancellationToken)
            : AtcGcDatabase.OpenEmbeddedAsync(new EmbeddedPostgresOptions(), loggerFactory, cancellationToken);
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
