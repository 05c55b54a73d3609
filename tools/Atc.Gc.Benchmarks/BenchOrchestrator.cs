using Atc.Gc.Collection;
using Atc.Gc.Server;
using Atc.Gc.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Atc.Gc.Benchmarks;

/// <summary>The orchestrator as production runs it (worker API, collector service), in this process, on a loopback port.</summary>
public sealed class BenchOrchestrator : IAsyncDisposable
{
    private readonly WebApplication app;

    private BenchOrchestrator(WebApplication app) => this.app = app;

    public Uri BaseUrl => ServerAddresses.First(app.Services.GetRequiredService<IServer>());

    public IServiceProvider Services => app.Services;

    /// <summary>Starts one with the defaults of every option but <paramref name="settings"/> (the listen address and the worker secret are set here).</summary>
    public static async Task<BenchOrchestrator> StartAsync(NpgsqlDataSource dataSource, string secret, IDictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["Orchestrator:Listen"] = "http://127.0.0.1:0",
            ["Workers:TokenSecret"] = secret,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        var app = OrchestratorHost.Build(new ConfigurationBuilder().AddInMemoryCollection(values).Build(), dataSource, logging => logging.ClearProviders());
        await app.StartAsync();
        return new BenchOrchestrator(app);
    }

    /// <summary>Stops the background collector (the worker API goes on), for runs that drive passes themselves.</summary>
    public Task StopCollectorAsync() => app.Services.GetServices<IHostedService>().OfType<CollectorService>().Single().StopAsync(CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
