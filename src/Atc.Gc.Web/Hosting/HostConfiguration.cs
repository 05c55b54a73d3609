using Microsoft.Extensions.Configuration;

namespace Atc.Gc.Web.Hosting;

/// <summary>
/// Where every setting of every host and command comes from, the later winning: the built-in defaults,
/// <c>appsettings.json</c>, <c>appsettings.{Environment}.json</c> (both in the working directory), the
/// <c>--config</c> file, the environment (<c>Section__Key</c>, and the <c>ATC_GC_*</c> shorthands), and
/// last the command-line options that were given.
/// </summary>
public static class HostConfiguration
{
    /// <summary>Plain environment variables operators set, and the setting each stands for.</summary>
    public static IReadOnlyDictionary<string, string> Shorthands { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["ATC_GC_WORKER_SECRET"] = "Workers:TokenSecret",
        ["ATC_GC_WORKER_TOKEN"] = "Agent:Token",
    };

    /// <summary>The environment's name (<c>DOTNET_ENVIRONMENT</c>, else <c>ASPNETCORE_ENVIRONMENT</c>, else Production).</summary>
    public static string EnvironmentName =>
        FirstSet(Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT"), Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT")) ?? "Production";

    /// <summary>
    /// The layered configuration. <paramref name="configFile"/> must exist when given;
    /// <paramref name="commandLine"/> holds only the options given (a null value is no value).
    /// </summary>
    public static IConfigurationRoot Build(
        string? configFile,
        IEnumerable<KeyValuePair<string, string?>> commandLine,
        IEnumerable<KeyValuePair<string, string?>>? defaults = null,
        string? directory = null)
    {
        ArgumentNullException.ThrowIfNull(commandLine);
        var builder = new ConfigurationBuilder()
            .AddInMemoryCollection(defaults ?? [])
            .SetBasePath(directory ?? Directory.GetCurrentDirectory())
            .AddJsonFile("appsettings.json", optional: true)
            .AddJsonFile($"appsettings.{EnvironmentName}.json", optional: true);
        if (configFile is not null)
        {
            var path = Path.GetFullPath(configFile);
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"--config: {path} does not exist", path);
            }

            builder.AddJsonFile(path, optional: false);
        }

        builder
            .AddInMemoryCollection(Shorthands
                .Select(s => KeyValuePair.Create(s.Value, Environment.GetEnvironmentVariable(s.Key)))
                .Where(s => !string.IsNullOrEmpty(s.Value)))
            .AddEnvironmentVariables()
            .AddInMemoryCollection(commandLine.Where(s => s.Value is not null));
        return builder.Build();
    }

    private static string? FirstSet(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
}
