using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Atc.Gc.Web.Hosting;

/// <summary>
/// Logging for every host and command: the console, configured entirely from the <c>Logging</c>
/// section, so <c>Logging__Console__FormatterName=json</c> gives JSON lines and
/// <c>Logging__LogLevel__Atc.Gc=Debug</c> more detail; <see cref="ForHosts"/> and <see cref="ForCommands"/>
/// are what it says when nothing else does.
/// </summary>
public static class HostLogging
{
    /// <summary>Built-in logging settings, below every configuration source. Hosts log information and up on stdout.</summary>
    public static IReadOnlyDictionary<string, string?> ForHosts { get; } = Common("Information");

    /// <summary>Built-in logging settings for the short commands: warnings and up, on stderr (stdout is the command's answer).</summary>
    public static IReadOnlyDictionary<string, string?> ForCommands { get; } = new Dictionary<string, string?>(Common("Warning"), StringComparer.OrdinalIgnoreCase)
    {
        ["Logging:Console:LogToStandardErrorThreshold"] = "Trace",
    };

    /// <summary>What <c>--verbose</c> sets, as a command-line option (above every other source).</summary>
    public static IReadOnlyDictionary<string, string?> Verbose { get; } = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
    {
        ["Logging:LogLevel:Default"] = "Debug",
        ["Logging:LogLevel:Microsoft"] = "Information",
        ["Logging:LogLevel:FluentMigrator"] = "Information",
        // Each failed attempt is logged by the collector as one line; the resilience pipeline's own events only with --verbose.
        ["Logging:LogLevel:Polly"] = "Warning",
    };

    /// <summary>Replaces the providers with the console, configured from <paramref name="configuration"/>'s <c>Logging</c> section.</summary>
    public static ILoggingBuilder UseHostLogging(this ILoggingBuilder logging, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(logging);
        ArgumentNullException.ThrowIfNull(configuration);
        logging.ClearProviders();
        // A builder's own console setup (the slim web builder's forces the simple formatter) would
        // outlast the providers it added and win over Logging:Console:FormatterName.
        logging.Services.RemoveAll<IConfigureOptions<ConsoleLoggerOptions>>();
        logging.Services.RemoveAll<IConfigureOptions<SimpleConsoleFormatterOptions>>();
        logging.AddConfiguration(configuration.GetSection("Logging"));
        // The simple formatter's defaults, before the console binds Logging:Console:FormatterOptions over them.
        logging.Services.Configure<SimpleConsoleFormatterOptions>(simple =>
        {
            simple.SingleLine = true;
            simple.TimestampFormat = "HH:mm:ss ";
        });
        logging.AddConsole();
        return logging;
    }

    /// <summary>A logger factory for work outside a host (a command's own lines, opening the database).</summary>
    public static ILoggerFactory CreateFactory(IConfiguration configuration) =>
        LoggerFactory.Create(logging => logging.UseHostLogging(configuration));

    private static Dictionary<string, string?> Common(string level) => new(StringComparer.OrdinalIgnoreCase)
    {
        ["Logging:LogLevel:Default"] = level,
        ["Logging:LogLevel:Microsoft"] = "Warning",
        ["Logging:LogLevel:System.Net.Http"] = "Warning",
        ["Logging:LogLevel:Polly"] = "None",
        ["Logging:LogLevel:Npgsql"] = "Warning",
        ["Logging:LogLevel:FluentMigrator"] = "Warning",
    };
}
