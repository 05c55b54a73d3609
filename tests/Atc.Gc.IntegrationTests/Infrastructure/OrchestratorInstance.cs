using System.Net.Http.Headers;
using Atc.Gc.Server;
using Atc.Gc.Web;
using Atc.Gc.Workers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Atc.Gc.IntegrationTests.Infrastructure;

/// <summary>A real orchestrator (collector, worker API) on a loopback port against the test database.</summary>
public sealed class OrchestratorInstance : IAsyncDisposable
{
    private readonly WebApplication app;

    private OrchestratorInstance(WebApplication app) => this.app = app;

    public Uri BaseUrl => ServerAddresses.First(app.Services.GetRequiredService<IServer>());

    public IServiceProvider Services => app.Services;

    public static async Task<OrchestratorInstance> StartAsync(NpgsqlDataSource dataSource, IDictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["Orchestrator:Listen"] = "http://127.0.0.1:0",
            ["Orchestrator:UnknownVolumeGrace"] = "00:00:00",
            ["Orchestrator:MaxRequestBytes"] = "65536",
            ["Orchestrator:MaxReportBytes"] = "262144",
            ["Workers:TokenSecret"] = CollectorHarness.Secret,
            ["Workers:AttemptTimeout"] = "00:00:02",
            ["Workers:TotalTimeout"] = "00:00:03",
            ["Collector:Interval"] = "01:00:00",
            ["Collector:ClaimLease"] = "00:00:30",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        var app = OrchestratorHost.Build(new ConfigurationBuilder().AddInMemoryCollection(values).Build(), dataSource, logging => logging.SetMinimumLevel(Environment.GetEnvironmentVariable("ATC_GC_TEST_DEBUG") is null ? LogLevel.Warning : LogLevel.Debug).AddConsole());
        await app.StartAsync();
        return new OrchestratorInstance(app);
    }

    /// <summary>
    /// An orchestrator whose collector runs only its start-up pass (no change signals, an hour's
    /// interval), for tests that run passes themselves; returns once that pass is done.
    /// </summary>
    public static async Task<OrchestratorInstance> StartQuietAsync(NpgsqlDataSource dataSource, IDictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>()) { ["Collector:ListenForChanges"] = "false" };
        var instance = await StartAsync(dataSource, values);
        await instance.WaitForPassesAsync(1);
        return instance;
    }

    /// <summary>Waits until the background collector has run <paramref name="passes"/> passes.</summary>
    public async Task WaitForPassesAsync(long passes)
    {
        var health = app.Services.GetRequiredService<Atc.Gc.Collection.CollectorHealth>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (health.Passes < passes)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the collector ran {health.Passes} of {passes} passes");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>A client that calls as worker <paramref name="worker"/> (with its current token, or <paramref name="token"/>).</summary>
    public HttpClient ClientFor(string worker, string? token = null)
    {
        var client = new HttpClient { BaseAddress = BaseUrl };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token ?? TokenOf(worker));
        return client;
    }

    /// <summary>The current token of <paramref name="worker"/>: the test secret at the worker's generation in the database.</summary>
    public string TokenOf(string worker) => WorkerTokens.Derive(
        CollectorHarness.Secret, worker, Services.GetRequiredService<WorkerCredentials>().GenerationAsync(worker).GetAwaiter().GetResult());

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
