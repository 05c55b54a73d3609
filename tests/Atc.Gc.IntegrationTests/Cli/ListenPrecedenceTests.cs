using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Workers;

namespace Atc.Gc.IntegrationTests.Cli;

/// <summary>
/// <c>serve</c> and <c>worker</c> started as processes listen where their settings say, the nearer
/// source winning: command-line option &gt; environment &gt; <c>--config</c> file &gt;
/// appsettings.{Environment}.json &gt; appsettings.json. Each case sets every source up to the one that
/// must win, each with its own port.
/// </summary>
public sealed partial class ListenPrecedenceTests(PostgresFixture fixture) : PostgresTest(fixture), IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("atc-gc-listen-").FullName;

    public enum Source
    {
        AppSettings,
        EnvironmentFile,
        ConfigFile,
        Environment,
        CommandLine,
    }

    /// <summary>Each source in turn as the nearest one set.</summary>
    public static TheoryData<Source> Winners => new(Enum.GetValues<Source>());

    [Theory]
    [MemberData(nameof(Winners))]
    public async Task Serve_listens_where_the_nearest_source_says(Source winner)
    {
        var ports = await PlantAsync("Orchestrator", winner);
        var environment = Environment(winner, "Orchestrator", ports);
        environment["Workers__TokenSecret"] = CollectorHarness.Secret;

        var address = await ListenAddressAsync(
            Arguments(winner, ports, ["serve", "--database", Fixture.ConnectionString]), environment);

        Assert.Equal(ports[winner], address.Port);
    }

    [Theory]
    [MemberData(nameof(Winners))]
    public async Task Worker_listens_where_the_nearest_source_says(Source winner)
    {
        var ports = await PlantAsync("Agent", winner);
        var environment = Environment(winner, "Agent", ports);
        environment["ATC_GC_WORKER_TOKEN"] = WorkerTokens.Derive(CollectorHarness.Secret, "w1", generation: 0);

        var address = await ListenAddressAsync(
            Arguments(winner, ports, ["worker", "--name", "w1", "--root", Path.Combine(directory, "volumes"), "--driver", "naive"]), environment);

        Assert.Equal(ports[winner], address.Port);
    }

    [Fact]
    public async Task A_missing_config_file_is_bad_input_in_one_line()
    {
        var (code, _, stderr) = await AtcGcProcess.RunAsync(["volumes", "--config", Path.Combine(directory, "absent.json")]);

        Assert.Equal(2, code);
        Assert.Contains("absent.json does not exist", Assert.Single(stderr.Trim().Split('\n')), StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>Writes the files for every source up to <paramref name="winner"/>; a free port for each source.</summary>
    private async Task<Dictionary<Source, int>> PlantAsync(string section, Source winner)
    {
        var ports = Enum.GetValues<Source>().ToDictionary(s => s, _ => FreePort());
        var files = new Dictionary<Source, string>
        {
            [Source.AppSettings] = "appsettings.json",
            [Source.EnvironmentFile] = "appsettings.Staging.json",
            [Source.ConfigFile] = "chosen.json",
        };
        foreach (var (source, file) in files.Where(f => f.Key <= winner))
        {
            await File.WriteAllTextAsync(
                Path.Combine(directory, file), $$"""{ "{{section}}": { "Listen": "http://127.0.0.1:{{ports[source]}}" } }""");
        }

        return ports;
    }

    private string[] Arguments(Source winner, Dictionary<Source, int> ports, string[] command) =>
    [
        .. command,
        .. winner >= Source.ConfigFile ? (string[])["--config", Path.Combine(directory, "chosen.json")] : [],
        .. winner >= Source.CommandLine ? (string[])["--listen", $"http://127.0.0.1:{ports[Source.CommandLine]}"] : [],
    ];

    private static Dictionary<string, string?> Environment(Source winner, string section, Dictionary<Source, int> ports) => new()
    {
        ["DOTNET_ENVIRONMENT"] = "Staging",
        [$"{section}__Listen"] = winner >= Source.Environment ? $"http://127.0.0.1:{ports[Source.Environment]}" : null,
    };

    private async Task<Uri> ListenAddressAsync(string[] arguments, Dictionary<string, string?> environment)
    {
        await using var process = AtcGcProcess.Start(arguments, environment, directory);
        await Eventually.TrueAsync(
            () => process.HasExited || ListeningOn().IsMatch(process.Output), "the process says where it listens", TimeSpan.FromSeconds(60));
        var match = ListeningOn().Match(process.Output);
        Assert.True(match.Success, process.Output);
        return new Uri(match.Groups[1].Value);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"listening on (http://[^\s,/]+)")]
    private static partial Regex ListeningOn();
}
