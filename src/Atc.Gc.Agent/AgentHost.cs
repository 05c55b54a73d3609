using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atc.Gc.Agent;

/// <summary>Builds the worker agent: Kestrel on <see cref="AgentOptions.Listen"/>, the volume API, and the orchestrator link.</summary>
public static class AgentHost
{
    public static WebApplication Build(IConfiguration configuration, Action<ILoggingBuilder>? logging = null)
    {
        var options = new AgentOptions();
        configuration.GetSection(AgentOptions.Section).Bind(options);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddConfiguration(configuration);
        if (logging is not null)
        {
            builder.Logging.ClearProviders();
            logging(builder.Logging);
        }

        builder.WebHost.UseUrls(options.Listen);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = options.MaxRequestBytes);
        builder.Services.AddOptions<AgentOptions>()
            .Bind(configuration.GetSection(AgentOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddProblemDetails();
        builder.Services.AddSingleton(provider => new VolumeStore(
            provider.GetRequiredService<IOptions<AgentOptions>>().Value.Root!, provider.GetRequiredService<ILogger<VolumeStore>>()));
        builder.Services.AddHttpClient(VolumeReporter.ClientName, client => client.Timeout = TimeSpan.FromSeconds(30));
        builder.Services.AddSingleton<VolumeReporter>();
        builder.Services.AddHostedService(provider => provider.GetRequiredService<VolumeReporter>());

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapAgentApi();

        // Before listening: finish what a crash interrupted (half-created and half-deleted volumes).
        app.Services.GetRequiredService<VolumeStore>().Recover();
        return app;
    }
}
