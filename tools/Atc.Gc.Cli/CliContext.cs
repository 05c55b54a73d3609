using System.CommandLine;
using Atc.Gc.Database;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Atc.Gc.Cli;

/// <summary>What every command shares: the --database option, configuration and logging to stderr.</summary>
public sealed class CliContext
{
    public Option<string?> Database { get; } = new("--database")
    {
        Description = "PostgreSQL connection string (default: $ATC_GC_DATABASE, then ConnectionStrings:AtcGc, then the embedded cluster)",
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

    /// <summary>Opens (and migrates) the database named on the command line or in the environment, or the embedded one.</summary>
    public Task<AtcGcDatabase> OpenDatabaseAsync(ParseResult parse, ILoggerFactory loggerFactory, CancellationToken cancellationToken) =>
        AtcGcDatabase.OpenAsync(DatabaseSettings.Resolve(parse.GetValue(Database), Configuration), loggerFactory, cancellationToken: cancellationToken);
}
