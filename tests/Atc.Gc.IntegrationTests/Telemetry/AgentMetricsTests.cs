using System.Net.Http.Json;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Workers;

namespace Atc.Gc.IntegrationTests.Telemetry;

/// <summary>The agent's <c>/metrics</c>: its resource, and its creates and deletes with outcomes, bytes and durations in second-sized buckets.</summary>
public sealed class AgentMetricsTests
{
    [Fact]
    public async Task Creates_and_deletes_are_counted_timed_and_served_under_the_agent_s_name()
    {
        await using var agent = await AgentInstance.StartAsync("metrics-agent");
        using var client = agent.Client();

        Assert.True((await client.PostAsJsonAsync("volumes", new CreateVolumeRequest("v1"), VolumeProtocol.Json)).IsSuccessStatusCode);
        Assert.True((await client.DeleteAsync("volumes/v1")).IsSuccessStatusCode);
        var metrics = await OrchestratorMetricsTests.ScrapeAsync(agent.BaseUrl);
        var lines = metrics.Split('\n');

        Assert.Contains(lines, l => l.StartsWith("target_info{", StringComparison.Ordinal) && l.Contains("service_name=\"atc-gc-agent\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("atc_gc_agent_creates_total{", StringComparison.Ordinal) && l.Contains("atc_gc_outcome=\"created\"", StringComparison.Ordinal) && l.EndsWith(" 1", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("atc_gc_agent_deletes_total{", StringComparison.Ordinal) && l.Contains("atc_gc_outcome=\"deleted\"", StringComparison.Ordinal) && l.EndsWith(" 1", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("atc_gc_agent_deleted_bytes_total", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("atc_gc_agent_create_duration_seconds_bucket{", StringComparison.Ordinal) && l.Contains("le=\"0.1\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("atc_gc_agent_delete_duration_seconds_bucket{", StringComparison.Ordinal) && l.Contains("le=\"0.1\"", StringComparison.Ordinal));
    }
}
