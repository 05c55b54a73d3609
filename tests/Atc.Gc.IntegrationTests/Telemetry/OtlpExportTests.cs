using System.Collections.Concurrent;
using Atc.Gc.Collection;
using Atc.Gc.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Atc.Gc.IntegrationTests.Telemetry;

/// <summary>With <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, the orchestrator exports its metrics and traces there (OTLP over HTTP).</summary>
public sealed class OtlpExportTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task Metrics_and_traces_go_to_the_configured_otlp_endpoint()
    {
        var paths = new ConcurrentQueue<string>();
        await using var collector = await AnsweringServer.StartAsync(context =>
        {
            paths.Enqueue($"{context.Request.Method} {context.Request.Path}");
            context.Response.StatusCode = StatusCodes.Status200OK;
            return Task.CompletedTask;
        });
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource, new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.BaseUrl.ToString().TrimEnd('/'),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "200",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        });

        await orchestrator.Services.GetRequiredService<GarbageCollector>().RunPassAsync(PassRequest.Complete);

        await Eventually.TrueAsync(
            () => Task.FromResult(paths.Contains("POST /v1/metrics") && paths.Contains("POST /v1/traces")),
            "metrics and traces posted to the OTLP endpoint",
            TimeSpan.FromSeconds(20),
            () => $"got: {string.Join(", ", paths.Distinct())}");
    }
}
