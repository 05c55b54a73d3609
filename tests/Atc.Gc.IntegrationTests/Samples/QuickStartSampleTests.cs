using Atc.Gc.IntegrationTests.Infrastructure;

namespace Atc.Gc.IntegrationTests.Samples;

/// <summary>The README's quick start, run as the program it is, against the test database and a real agent.</summary>
public sealed class QuickStartSampleTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task The_quick_start_runs_a_build_and_the_collector_reclaims_what_it_released()
    {
        await using var agent = await AgentInstance.StartAsync("worker-1");
        var sample = AtcGcProcess.LocateBinary("Atc.Gc.Samples.QuickStart", "Atc.Gc.Samples.QuickStart.dll", "samples");

        var (code, stdout, stderr) = await AtcGcProcess.RunBinaryAsync(
            sample,
            ["--database", Fixture.ConnectionString, "--worker", "worker-1", "--worker-url", agent.BaseUrl.ToString(), "--worker-root", agent.Root],
            new Dictionary<string, string?> { ["Workers__TokenSecret"] = CollectorHarness.Secret, ["Collector__Interval"] = "00:00:01" });

        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains("reclaimed the build's volumes", stdout, StringComparison.Ordinal);
        Assert.Single(agent.Store.List(withSizes: false)); // the cache's volume, kept for the next build
    }
}
