using System.Text.Json;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Workers;

namespace Atc.Gc.IntegrationTests.Cli;

/// <summary>The hosts' logging follows the <c>Logging</c> settings: <c>Logging__Console__FormatterName=json</c> gives JSON lines.</summary>
public sealed class HostLoggingTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("atc-gc-logging-").FullName;

    [Fact]
    public async Task A_worker_logs_json_lines_when_the_settings_say_json()
    {
        await using var worker = AtcGcProcess.Start(
            ["worker", "--name", "w1", "--root", root, "--listen", "http://127.0.0.1:0", "--driver", "naive"],
            new Dictionary<string, string?>
            {
                ["Logging__Console__FormatterName"] = "json",
                ["ATC_GC_WORKER_TOKEN"] = WorkerTokens.Derive(CollectorHarness.Secret, "w1", generation: 0),
            });
        await Eventually.TrueAsync(
            () => worker.HasExited || worker.Output.Contains("\"Category\":\"Atc.Gc.Agent.VolumeStore\"", StringComparison.Ordinal),
            "the worker logs its store as JSON", TimeSpan.FromSeconds(60));

        var line = worker.Output.Split('\n').First(l => l.Contains("Atc.Gc.Agent.VolumeStore", StringComparison.Ordinal));
        using var entry = JsonDocument.Parse(line);
        Assert.Equal("Information", entry.RootElement.GetProperty("LogLevel").GetString());
        Assert.Equal(root, entry.RootElement.GetProperty("State").GetProperty("Root").GetString());
    }

    public void Dispose() => Directory.Delete(root, recursive: true);
}
