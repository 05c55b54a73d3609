using Atc.Gc.Collection;
using Atc.Gc.Web;
using Atc.Gc.Web.Hosting;
using Atc.Gc.Workers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Atc.Gc.Server;

/// <summary>
/// Builds the orchestrator: the collector running in the background, the worker API, health
/// (<c>/health/live</c>, <c>/health/ready</c>: collector and database) and <c>/metrics</c> (Prometheus text of the collector's meter).
/// The database must already be migrated (<see cref="Database.AtcGcDatabase.MigrateAsync"/> does it, as opening an <see cref="Database.AtcGcDatabase"/> does).
/// </summary>
public static class OrchestratorHost
{
    public static WebApplication Build(IConfiguration configuration, NpgsqlDataSource dataSource, Action<ILoggingBuilder>? logging = null)
    {
        var options = new OrchestratorOptions();
        configuration.GetSection(OrchestratorOptions.Section).Bind(options);

        var builder = HostDefaults.CreateBuilder(
            configuration, options.Listen, Math.Max(options.MaxReportBytes, options.MaxRequestBytes), logging, host => host.AddAtcGcOrchestratorTelemetry());
        builder.Services.AddOptions<OrchestratorOptions>()
            .Bind(configuration.GetSection(OrchestratorOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddOptions<WorkerClientOptions>()
            .Validate(o => !string.IsNullOrEmpty(o.TokenSecret), WorkerClientOptions.MissingSecret);
        builder.Services
            .AddAtcGcStore(dataSource)
            .AddAtcGcCollector(configuration)
            .AddAtcGcCollectorService()
            .AddSingleton<VolumeReportService>()
            .AddSingleton<ReportGate>();
        builder.Services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database")
            .AddCheck<HeldWorkersHealthCheck>("held-workers");

        var app = builder.Build();

        // No worker may be registered at the orchestrator's own listeners: the configured address
        // now, the addresses really bound (port 0) once listening.
        var policy = app.Services.GetRequiredService<WorkerNetworkPolicy>();
        policy.DenyListeners([options.Listen]);
        app.Lifetime.ApplicationStarted.Register(() => policy.DenyListeners(
            app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? []));
        app.UseProblemAnswers();
        app.MapWorkerApi();
        app.MapDefaultEndpoints();
        return app;
    }
}
