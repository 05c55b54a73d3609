using Microsoft.Extensions.Configuration;

namespace Atc.Gc.Database;

/// <summary>Where the connection string comes from, first match wins.</summary>
public static class DatabaseSettings
{
    /// <summary>Environment variable holding the connection string.</summary>
    public const string EnvironmentVariable = "ATC_GC_DATABASE";

    /// <summary>Name under <c>ConnectionStrings</c> in configuration (<c>ConnectionStrings:AtcGc</c>).</summary>
    public const string ConnectionStringName = "AtcGc";

    /// <summary>The one line shown when a command needs the database and none is configured or asked for.</summary>
    public const string NotConfigured =
        "no database is configured: pass --database, set ATC_GC_DATABASE or ConnectionStrings:AtcGc, or use --embedded for the local embedded cluster";

    /// <summary>
    /// The configured connection string: the command line's <c>--database</c>, then
    /// <c>ATC_GC_DATABASE</c>, then <c>ConnectionStrings:AtcGc</c>. Null means none is configured; the
    /// embedded cluster is never implied, only used when asked for.
    /// </summary>
    public static string? Resolve(string? commandLine, IConfiguration? configuration = null)
    {
        foreach (var candidate in (string?[])
                 [commandLine, Environment.GetEnvironmentVariable(EnvironmentVariable), configuration?.GetConnectionString(ConnectionStringName)])
        {
            if (!string.IsNullOrWhiteSpace(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
