using Atc.Gc.Agent.Drivers;
using Atc.Gc.Agent.Storage;
using Atc.Gc.Hosting;
using Atc.Gc.Web;
using Atc.Gc.Web.Hosting;
using Atc.Gc.Workers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atc.Gc.Agent;

/// <summary>
/// Builds the worker agent: Kestrel on <see cref="AgentOptions.Listen"/>, the volume API, the store with
/// its driver and background loops (reaper, sizes), the orchestrator link, health (<c>/health/ready</c> and <c>/health</c>:
/// <see cref="AgentHealth"/>, never walking the disk; <c>/health/live</c>) and <c>/metrics</c>.
/// </summary>
public static class AgentHost
{
    public static WebApplication Build(IConfiguration configuration, Action<ILoggingBuilder>? logging = null)
    {
        var options = new AgentOptions();
        configuration.GetSection(AgentOptions.Section).Bind(options);

        var builder = HostDefaults.CreateBuilder(configuration, options.Listen, options.MaxRequestBytes, logging, host => host.AddAtcGcAgentTelemetry());
        builder.Services.AddOptions<AgentOptions>()
            .Bind(configuration.GetSection(AgentOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<AgentMetrics>();
        builder.Services.AddSingleton<AgentLoops>();
        builder.Services.AddSingleton(provider => CreateStore(
            provider.GetRequiredService<IOptions<AgentOptions>>().Value,
            provider.GetRequiredService<AgentMetrics>(),
            provider.GetRequiredService<ILoggerFactory>()));
        builder.Services.AddSingleton(provider => new AgentIdentity(provider.GetRequiredService<IOptions<AgentOptions>>().Value.Root!));
        builder.Services.AddHttpClient(VolumeReporter.ClientName, client => client.Timeout = TimeSpan.FromSeconds(30))
            .ConfigurePrimaryHttpMessageHandler(provider => OrchestratorHandler(provider.GetRequiredService<IOptions<AgentOptions>>().Value));
        builder.Services.AddSingleton(provider => new VolumeReporter(
            provider.GetRequiredService<IOptions<AgentOptions>>(),
            provider.GetRequiredService<VolumeStore>(),
            provider.GetRequiredService<AgentIdentity>(),
            provider.GetRequiredService<AgentLoops>(),
            provider.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>(),
            provider.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>(),
            provider.GetRequiredService<IHttpClientFactory>(),
            provider.GetRequiredService<ILogger<VolumeReporter>>()));
        builder.Services.AddHostedService<StoreMaintenance>();
        builder.Services.AddHostedService(provider => provider.GetRequiredService<VolumeReporter>());

        var app = builder.Build();
        app.UseProblemAnswers();
        app.MapAgentApi();
        app.MapDefaultEndpoints(readiness: (VolumeStore store, AgentLoops loops) => Results.Json(AgentHealth.Of(store, loops), VolumeProtocol.Json));

        // Before listening: choose the driver, read the volumes, mount them again, finish what a crash interrupted.
        var store = app.Services.GetRequiredService<VolumeStore>();
        store.Recover();
        app.Services.GetRequiredService<AgentMetrics>().Observe(
            () => store.Leftovers.Count,
            () => store.Count,
            () => store.Disk().VolumesBytes,
            () => store.Disk() is { } disk ? (disk.CapacityBytes, disk.FreeBytes) : (0, 0));
        return app;
    }

    /// <summary>
    /// The connection to the orchestrator: the worker's token goes to it alone (no redirect is
    /// followed), and with <see cref="AgentOptions.OrchestratorCaFile"/> only that authority is trusted for HTTPS.
    /// </summary>
    private static SocketsHttpHandler OrchestratorHandler(AgentOptions options)
    {
        var handler = new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false };
        if (options.OrchestratorCaFile is { } caFile)
        {
            handler.SslOptions = CaTrust.ClientOptions(CaTrust.Load(caFile));
        }

        return handler;
    }

    private static VolumeStore CreateStore(AgentOptions options, AgentMetrics metrics, ILoggerFactory loggers)
    {
        var root = Path.GetFullPath(options.Root!);
        Directory.CreateDirectory(root);
        var logger = loggers.CreateLogger<VolumeStore>();
        var drivers = VolumeDrivers.Choose(root, options.Driver, logger);
        var settings = new StoreSettings(
            options.MaxBytes,
            TimeSpan.FromSeconds(1),
            options.SizeWalkLimit,
            new ReaperSettings(options.ReaperBackoff, options.MaxReaperBackoff, TimeSpan.FromMinutes(1)));
        return new VolumeStore(root, drivers, settings, metrics, logger);
    }
}
