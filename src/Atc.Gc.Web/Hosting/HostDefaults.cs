using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;

namespace Atc.Gc.Web.Hosting;

/// <summary>
/// The one way every host (orchestrator, agent) is built: configuration from
/// <see cref="HostConfiguration"/>, logging from <see cref="HostLogging"/>, telemetry and health
/// (<see cref="HostHealth"/>). The command-line tool builds its configuration and logging here too.
/// </summary>
public static class HostDefaults
{
    /// <summary>
    /// A web host on <paramref name="listen"/> whose only configuration is <paramref name="configuration"/>
    /// (already layered by <see cref="HostConfiguration.Build"/>), with its logging, its
    /// <paramref name="telemetry"/> (the host's OpenTelemetry setup, over <see cref="Telemetry.AtcGcTelemetry"/>),
    /// and health checks ready to register. <paramref name="logging"/>, when given, adjusts
    /// the logging after the configuration's (an embedding test or benchmark quietens it).
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(
        IConfiguration configuration, string listen, long maxRequestBodyBytes, Action<ILoggingBuilder>? logging, Action<IHostApplicationBuilder> telemetry)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(telemetry);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddConfiguration(configuration);
        builder.Logging.UseHostLogging(builder.Configuration);
        logging?.Invoke(builder.Logging);
        var management = ManagementPort.Address(configuration, listen);
        WebHostSetup.UseKestrel(builder, management is null ? listen : $"{listen};{management.GetLeftPart(UriPartial.Authority)}", maxRequestBodyBytes);
        builder.Services.AddHealthChecks();
        telemetry(builder);
        return builder;
    }

    /// <summary>
    /// The endpoints every host serves besides its API: health (<see cref="HostHealth"/>; a host with
    /// its own <paramref name="readiness"/> answer serves it at ready) and <c>/metrics</c> — on the
    /// management port alone when <see cref="ManagementPort.Setting"/> is set.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app, Delegate? readiness = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (ManagementPort.Address(app.Configuration, string.Empty) is { } management)
        {
            app.UseManagementPort(management.Port);
        }

        app.MapHostHealth(readiness);
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }
}
