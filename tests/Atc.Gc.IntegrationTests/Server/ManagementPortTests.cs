using System.Net;
using Atc.Gc.Hosting;
using Atc.Gc.IntegrationTests.Infrastructure;

namespace Atc.Gc.IntegrationTests.Server;

/// <summary>
/// <c>Management:Listen</c>: health and metrics on their own port and only there, the worker API only
/// on the listen address; an address the management port cannot be is refused at start_as_bad_input.
/// </summary>
public sealed class ManagementPortTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task Health_and_metrics_answer_only_on_the_management_port_and_the_api_only_off_it()
    {
        var management = new Uri($"http://127.0.0.1:{Loopback.FreePort()}/");
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource, new Dictionary<string, string?> { ["Management:Listen"] = management.ToString() });
        Assert.NotEqual(management.Port, orchestrator.BaseUrl.Port);
        using var api = new HttpClient { BaseAddress = orchestrator.BaseUrl };
        using var operations = new HttpClient { BaseAddress = management };

        foreach (var path in (string[])["health/live", "health/ready", "health", "metrics"])
        {
            Assert.Equal(HttpStatusCode.OK, (await operations.GetAsync(path)).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync(path)).StatusCode);
        }

        // The worker API: a request without a token is refused on the listen address and not served at all on the management port.
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.PutAsync("api/v1/workers/w1", new StringContent("{}"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await operations.PutAsync("api/v1/workers/w1", new StringContent("{}"))).StatusCode);
    }

    [Theory]
    [InlineData("http://127.0.0.1:0")]
    [InlineData("http://127.0.0.1")]
    [InlineData("http://127.0.0.1:9464/metrics")]
    [InlineData("tcp://127.0.0.1:9464")]
    public async Task A_management_address_without_a_fixed_port_of_its_own_is_refused_at_start(string address)
    {
        var refused = await Assert.ThrowsAsync<ArgumentException>(() =>
            OrchestratorInstance.StartAsync(DataSource, new Dictionary<string, string?> { ["Management:Listen"] = address }));
        Assert.Contains("Management:Listen", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_with_a_management_address_it_cannot_use_stops_in_one_line_with_exit_code_2()
    {
        var (exitCode, _, stderr) = await AtcGcProcess.RunAsync(
            ["serve", "--database", Fixture.ConnectionString, "--listen", $"http://127.0.0.1:{Loopback.FreePort()}"],
            new Dictionary<string, string?> { ["Management__Listen"] = "http://127.0.0.1:0", ["Workers__TokenSecret"] = CollectorHarness.Secret },
            TimeSpan.FromMinutes(1));

        Assert.Equal(2, exitCode);
        Assert.Contains("Management:Listen must be", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
