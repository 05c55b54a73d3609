using Atc.Gc.Web.Telemetry;
using Microsoft.Extensions.Hosting;

namespace Atc.Gc.Agent;

/// <summary>The worker agent's telemetry: its meter (volumes created and deleted, failures, bytes, durations).</summary>
public static class AgentTelemetry
{
    public const string ServiceName = "atc-gc-agent";

    public static IHostApplicationBuilder AddAtcGcAgentTelemetry(this IHostApplicationBuilder builder) =>
        builder.AddAtcGcTelemetry(ServiceName, metrics => metrics.AddMeter(AgentMetrics.MeterName), tracing => { });
}
