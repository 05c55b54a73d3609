using Atc.Gc.IntegrationTests.Infrastructure;

namespace Atc.Gc.IntegrationTests.Cli;

/// <summary>README's first command, in its short mode, on the embedded default (in a directory of its own).</summary>
public sealed class DemoTests
{
    [Fact]
    public async Task The_quick_demo_runs_every_event_and_passes_its_check()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"atc-gc-demo-test-{Guid.NewGuid():N}"[..30]);
        try
        {
            var (code, stdout, stderr) = await AtcGcProcess.RunAsync(
                ["demo", "--quick"],
                new Dictionary<string, string?> { ["ATC_GC_EMBEDDED_DIR"] = directory, ["ATC_GC_DATABASE"] = null },
                TimeSpan.FromMinutes(3));

            Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
            Assert.Contains("operator: clear-resource-cache web/repo", stdout, StringComparison.Ordinal);
            Assert.Contains("operator: land-worker worker-3", stdout, StringComparison.Ordinal);
            Assert.Contains("failure: worker-2's agent killed (SIGKILL)", stdout, StringComparison.Ordinal);
            Assert.Contains("recovery: worker-2's agent is back", stdout, StringComparison.Ordinal);
            Assert.Contains("check: no volume in use by a running build was deleted", stdout, StringComparison.Ordinal);
            Assert.Contains("check: the database and the worker disks agree", stdout, StringComparison.Ordinal);
            Assert.Contains("demo passed", stdout, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }
}
