using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Workers;

namespace Atc.Gc.IntegrationTests.Agent;

/// <summary>
/// The agent's loops toward the orchestrator (heartbeat, report, acknowledgements) survive every
/// failure, show it in <c>/health</c>, and recover by themselves; deletions are acknowledged without a full report.
/// </summary>
public sealed class AgentLoopTests
{
    private static readonly Dictionary<string, string?> Fast = new()
    {
        ["Agent:HeartbeatInterval"] = "00:00:00.200",
        ["Agent:ReportInterval"] = "00:00:00.300",
        ["Agent:ReaperBackoff"] = "00:00:00.100",
    };

    [Fact]
    public async Task Loops_survive_reset_connections_and_garbage_answers_show_it_in_health_and_recover_when_the_orchestrator_is_fixed()
    {
        await using var orchestrator = await StandInOrchestrator.StartAsync();
        orchestrator.Mode = StandInOrchestrator.Behaviour.Reset;
        await using var agent = await AgentInstance.StartAsync("w1", orchestrator: orchestrator.BaseUrl, extra: Fast);

        await Eventually.TrueAsync(async () => Failing(await LoopsAsync(agent), "heartbeat", "report"), "both loops failed three times in a row on reset connections");
        var afterResets = await HealthAsync(agent);
        Assert.Equal("degraded", afterResets.GetProperty("status").GetString());

        orchestrator.Mode = StandInOrchestrator.Behaviour.Garbage;
        await Eventually.TrueAsync(
            async () => (await LoopsAsync(agent)).GetProperty("heartbeat").GetProperty("lastError").GetString()!.Contains("JSON", StringComparison.OrdinalIgnoreCase),
            "the heartbeat loop met a garbage answer");

        var fixedAt = DateTimeOffset.UtcNow;
        orchestrator.Mode = StandInOrchestrator.Behaviour.Answer;
        await Eventually.TrueAsync(async () => Recovered(await LoopsAsync(agent), fixedAt, "heartbeat", "report"), "both loops recovered", TimeSpan.FromSeconds(20));

        var loops = await LoopsAsync(agent);
        Assert.All(new[] { "heartbeat", "report", "acknowledgements", "reaper", "sizes" }, name => Assert.Equal("running", loops.GetProperty(name).GetProperty("state").GetString()));
        Assert.Equal("healthy", (await HealthAsync(agent)).GetProperty("status").GetString());
    }

    [AsRootFact("makes a file immutable (chattr +i), which only root can")]
    public async Task Deletions_are_acknowledged_by_handle_without_a_full_report()
    {
        await using var orchestrator = await StandInOrchestrator.StartAsync();
        var slowReports = new Dictionary<string, string?>(Fast) { ["Agent:ReportInterval"] = "01:00:00" };
        await using var agent = await AgentInstance.StartAsync("w1", orchestrator: orchestrator.BaseUrl, extra: slowReports);
        using var client = agent.Client();
        foreach (var handle in (string[])["vol-a", "vol-b", "vol-slow"])
        {
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("volumes", new CreateVolumeRequest(handle))).StatusCode);
        }

        await Immutable.CreateAsync(Path.Combine(agent.Store.DataPathOf("vol-slow"), "pinned"));
        try
        {
            var destroyed = await client.PostAsJsonAsync("volumes/destroy", new DestroyVolumesRequest(["vol-a", "vol-b", "vol-slow"]), VolumeProtocol.Json);
            Assert.Equal(HttpStatusCode.OK, destroyed.StatusCode);
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        finally
        {
            await Immutable.ReleaseAllAsync(agent.Root, "pinned");
        }

        // Deleted at once: answered, nothing to tell. Removed later by the reaper: acknowledged, by handle.
        await Eventually.TrueAsync(() => orchestrator.Count("POST", "/volumes/gone") > 0, "the agent acknowledged the reaper's removal");
        var acknowledged = orchestrator.Received.Where(r => r.Request.EndsWith("/volumes/gone", StringComparison.Ordinal))
            .SelectMany(r => JsonSerializer.Deserialize<VolumesGoneRequest>(r.Body, VolumeProtocol.Json)!.Handles).ToList();
        Assert.Equal(["vol-slow"], acknowledged);
        Assert.Equal(0, orchestrator.Count("PUT", "/volumes/report"));
    }

    private static bool Failing(JsonElement loops, params string[] names) =>
        names.All(n => loops.GetProperty(n).GetProperty("consecutiveFailures").GetInt32() >= 3
                       && loops.GetProperty(n).GetProperty("state").GetString() == "running");

    private static bool Recovered(JsonElement loops, DateTimeOffset since, params string[] names) =>
        names.All(n => loops.GetProperty(n).GetProperty("consecutiveFailures").GetInt32() == 0
                       && loops.GetProperty(n).GetProperty("lastSuccess").GetDateTimeOffset() > since);

    private static async Task<JsonElement> LoopsAsync(AgentInstance agent) => (await HealthAsync(agent)).GetProperty("loops");

    private static async Task<JsonElement> HealthAsync(AgentInstance agent) =>
        JsonDocument.Parse(await UndeletableVolumeTests.HealthAsync(agent)).RootElement.Clone();
}
