using System.Globalization;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Atc.Gc.Collection;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Workers;
using Microsoft.Extensions.DependencyInjection;

namespace Atc.Gc.IntegrationTests.Telemetry;

/// <summary>What a real orchestrator's (and agent's) <c>/metrics</c> exposes, against what the shipped alert rules and dashboard use.</summary>
public sealed partial class OrchestratorMetricsTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task Every_metric_the_alert_rules_and_the_dashboard_use_is_exposed()
    {
        await using var fleet = new WorkerFleet(Store, Given);
        var worker = await fleet.AddAsync("w1");
        await Given.ExecuteAsync("UPDATE workers SET disk_capacity_bytes = 1000, disk_free_bytes = 400, disk_volumes_bytes = 600, disk_reported_at = now()");
        await Given.DestroyingAsync("w1");
        worker.Mode = FakeWorker.Behaviour.Failing;
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource);
        await orchestrator.Services.GetRequiredService<GarbageCollector>().RunPassAsync(PassRequest.Complete);
        await using var agent = await AgentInstance.StartAsync("a1");
        using var agentClient = agent.Client();
        await agentClient.PostAsJsonAsync("volumes", new CreateVolumeRequest("v1"), VolumeProtocol.Json);
        await agentClient.DeleteAsync("volumes/v1");

        var exposed = MetricNames(await ScrapeAsync(orchestrator.BaseUrl));
        exposed.UnionWith(MetricNames(await ScrapeAsync(agent.BaseUrl)));
        var used = MonitoringFiles.MetricNamesUsed();

        Assert.NotEmpty(used);
        Assert.Empty(used.Where(name => !exposed.Contains(name)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Duration_histograms_in_seconds_have_buckets_sized_for_seconds()
    {
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource);

        var metrics = await ScrapeAsync(orchestrator.BaseUrl);
        var bounds = BucketBounds(metrics, "atc_gc_pass_duration_seconds_bucket");

        // A pass of a tenth of a second and one of a minute fall in different buckets, below the last.
        Assert.Contains(0.1, bounds);
        Assert.Contains(60.0, bounds);
        Assert.True(bounds.Count(b => b <= 1) >= 5, $"buckets: {string.Join(", ", bounds)}");
    }

    [Fact]
    public async Task The_resource_names_the_orchestrator_its_version_and_instance()
    {
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource);

        var targetInfo = (await ScrapeAsync(orchestrator.BaseUrl)).Split('\n').Single(line => line.StartsWith("target_info{", StringComparison.Ordinal));

        Assert.Contains("service_name=\"atc-gc-orchestrator\"", targetInfo, StringComparison.Ordinal);
        Assert.Contains("service_namespace=\"atc-gc\"", targetInfo, StringComparison.Ordinal);
        Assert.Contains("service_version=\"", targetInfo, StringComparison.Ordinal);
        Assert.Contains($"service_instance_id=\"{Environment.MachineName}:{Environment.ProcessId}\"", targetInfo, StringComparison.Ordinal);
    }

    internal static async Task<string> ScrapeAsync(Uri baseUrl)
    {
        using var client = new HttpClient { BaseAddress = baseUrl };
        return await client.GetStringAsync("metrics");
    }

    internal static HashSet<string> MetricNames(string exposition) =>
        [.. exposition.Split('\n').Where(line => line.Length > 0 && line[0] != '#').Select(line => SampleName().Match(line).Value)];

    private static List<double> BucketBounds(string exposition, string bucket) =>
        [.. exposition.Split('\n')
            .Where(line => line.StartsWith(bucket + "{", StringComparison.Ordinal))
            .Select(line => LeLabel().Match(line).Groups[1].Value)
            .Where(le => le != "+Inf")
            .Select(le => double.Parse(le, CultureInfo.InvariantCulture))
            .Distinct()];

    [GeneratedRegex(@"^[a-zA-Z_:][a-zA-Z0-9_:]*")]
    private static partial Regex SampleName();

    [GeneratedRegex("le=\"([^\"]+)\"")]
    private static partial Regex LeLabel();
}
