using System.Net;
using System.Text.Json;
using Atc.Gc.IntegrationTests.Infrastructure;

namespace Atc.Gc.IntegrationTests.Server;

/// <summary>
/// <c>/health/live</c> answers while the process is up; <c>/health/ready</c> (and its alias
/// <c>/health</c>) runs the checks — database reachable, a recent pass — and carries each one's data.
/// </summary>
public sealed class HealthEndpointTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task Ready_carries_each_checks_data_and_live_runs_no_check()
    {
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource);
        using var anonymous = new HttpClient { BaseAddress = orchestrator.BaseUrl };

        using var live = await JsonAsync(anonymous, "health/live", HttpStatusCode.OK);
        using var ready = await JsonAsync(anonymous, "health/ready", HttpStatusCode.OK);
        using var alias = await JsonAsync(anonymous, "health", HttpStatusCode.OK);

        Assert.Empty(live.RootElement.GetProperty("checks").EnumerateObject());
        var collector = ready.RootElement.GetProperty("checks").GetProperty("collector").GetProperty("data");
        Assert.NotEqual("never", collector.GetProperty("lastPassAt").GetString());
        Assert.Equal("none", collector.GetProperty("failingCollectors").GetString());
        Assert.False(collector.GetProperty("paused").GetBoolean());
        Assert.Equal("Healthy", ready.RootElement.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
        Assert.True(alias.RootElement.GetProperty("checks").TryGetProperty("collector", out _));
    }

    [Fact]
    public async Task Without_a_recent_pass_ready_fails_while_live_still_answers()
    {
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource, new Dictionary<string, string?> { ["Collector:StaleAfter"] = "00:00:01" });
        using var anonymous = new HttpClient { BaseAddress = orchestrator.BaseUrl };
        await Task.Delay(TimeSpan.FromSeconds(1.5));

        using var live = await JsonAsync(anonymous, "health/live", HttpStatusCode.OK);
        using var ready = await JsonAsync(anonymous, "health/ready", HttpStatusCode.ServiceUnavailable);

        Assert.Equal("Healthy", live.RootElement.GetProperty("status").GetString());
        Assert.Contains("no collection pass has finished", ready.RootElement.GetProperty("checks").GetProperty("collector").GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    private static async Task<JsonDocument> JsonAsync(HttpClient client, string path, HttpStatusCode expected)
    {
        using var response = await client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{path}: {response.StatusCode} {body}");
        return JsonDocument.Parse(body);
    }
}
