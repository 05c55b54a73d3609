using Atc.Gc.Collection;
using Atc.Gc.Telemetry;
using Atc.Gc.Web.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Atc.Gc.Server;

/// <summary>The orchestrator's telemetry: the collector's meter and spans, the cluster gauges, Npgsql's meter and spans.</summary>
public static class OrchestratorTelemetry
{
    public const string ServiceName = "atc-gc-orchestrator";

    /// <summary>How long the cluster gauges reuse one read of the database (default 15 s).</summary>
    public const string GaugeMaxAgeSetting = "Metrics:ClusterGaugesMaxAge";

    public static IHostApplicationBuilder AddAtcGcOrchestratorTelemetry(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var maxAge = builder.Configuration.GetValue<TimeSpan?>(GaugeMaxAgeSetting);
        builder.Services.AddSingleton(provider =>
        {
            var gauges = ActivatorUtilities.CreateInstance<ClusterGauges>(provider);
            gauges.MaxAge = maxAge ?? gauges.MaxAge;
            return gauges;
        });
        builder.Services.AddHostedService(provider => provider.GetRequiredService<ClusterGauges>());
        return builder.AddAtcGcTelemetry(
            ServiceName,
            metrics => metrics.AddMeter(CollectorMetrics.MeterName, ClusterGauges.MeterName).AddNpgsqlInstrumentation(),
            tracing => tracing.AddSource(CollectorTracing.SourceName).AddNpgsql());
    }
}
