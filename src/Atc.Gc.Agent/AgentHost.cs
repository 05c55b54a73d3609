using Atc.Gc.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
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

        var builder = WebHostSetup.CreateBuilder(configuration, options.Listen, options.MaxRequestBytes, logging);
        builder.Services.AddOptions<AgentOptions>()
            .Bind(configuration.GetSection(AgentOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(provider => new VolumeStore(
            provider.GetRequiredService<IOptions<AgentOptions>>().Value.Root!, provider.GetRequiredService<ILogger<VolumeStore>>()));
        builder.Services.AddSingleton(provider => new AgentIdentity(provider.GetRequiredService<IOptions<AgentOptions>>().Value.Root!));
        builder.Services.AddHttpClient(VolumeReporter.ClientName, client => client.Timeout = TimeSpan.FromSeconds(30));
        builder.Services.AddSingleton<VolumeReporter>();
        builder.Services.AddHostedService(provider => provider.GetRequiredService<VolumeReporter>());

        var app = builder.Build();
        app.UseProblemAnswers();
        app.MapAgentApi();

        // Before listening: finish what a crash interrupted (half-created and half-deleted volumes).
        app.Services.GetRequiredService<VolumeStore>().Recover();
        return app;
    }
}
