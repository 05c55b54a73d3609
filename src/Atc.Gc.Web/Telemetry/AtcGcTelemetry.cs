using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Atc.Gc.Web.Telemetry;

/// <summary>
/// OpenTelemetry as every atc-gc host sets it up: the resource (service <c>atc-gc-…</c> in namespace
/// <c>atc-gc</c>, version, instance), the process's own meters and activity sources, the runtime,
/// ASP.NET Core and HttpClient meters and spans, the Prometheus exporter behind <c>/metrics</c>, and
/// OTLP export of metrics, traces and logs when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (the other
/// <c>OTEL_*</c> settings apply as the OpenTelemetry SDK reads them). Tracing is on even without an
/// exporter: calls to workers then carry the trace context of the pass that made them.
/// </summary>
public static class AtcGcTelemetry
{
    public const string ServiceNamespace = "atc-gc";

    /// <summary>The setting that switches OTLP export on.</summary>
    public const string OtlpEndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The version in the resource: the informational version without its source revision.</summary>
    public static string Version { get; } =
        (typeof(AtcGcTelemetry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0").Split('+')[0];

    /// <summary>Tells instances of a service apart: host name and process id.</summary>
    public static string InstanceId { get; } = $"{Environment.MachineName}:{Environment.ProcessId}";

    /// <summary>Adds OpenTelemetry for a process whose service is <paramref name="serviceName"/>.</summary>
    /// <param name="metrics">The process's own meters and instrumentation, added to the common ones.</param>
    /// <param name="tracing">The process's own activity sources and instrumentation.</param>
    public static IHostApplicationBuilder AddAtcGcTelemetry(
        this IHostApplicationBuilder builder, string serviceName, Action<MeterProviderBuilder> metrics, Action<TracerProviderBuilder> tracing)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(tracing);
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(
                serviceName, ServiceNamespace, Version, autoGenerateServiceInstanceId: false, serviceInstanceId: InstanceId))
            .WithMetrics(meters =>
            {
                meters.AddRuntimeInstrumentation().AddAspNetCoreInstrumentation().AddHttpClientInstrumentation().AddPrometheusExporter();
                metrics(meters);
            })
            .WithTracing(spans =>
            {
                spans.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation();
                tracing(spans);
            });
        if (!string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointSetting]))
        {
            telemetry.UseOtlpExporter();
        }

        return builder;
    }
}
