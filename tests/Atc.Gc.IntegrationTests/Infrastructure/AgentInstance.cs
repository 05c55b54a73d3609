using System.Net.Http.Headers;
using Atc.Gc.Agent;
using Atc.Gc.Web;
using Atc.Gc.Workers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atc.Gc.IntegrationTests.Infrastructure;

/// <summary>A real worker agent on a loopback port with a real volume directory (a temporary one, removed at the end).</summary>
public sealed class AgentInstance : IAsyncDisposable
{
    private WebApplication app;

    private AgentInstance(WebApplication app, string name, string root, string token, Dictionary<string, string?> settings)
    {
        this.app = app;
        Name = name;
        Root = root;
        Token = token;
        Settings = settings;
    }

    public string Name { get; }

    public string Root { get; }

    public string Token { get; private set; }

    public Uri BaseUrl => ServerAddresses.First(app.Services.GetRequiredService<IServer>());

    public VolumeStore Store => app.Services.GetRequiredService<VolumeStore>();

    public VolumeReporter Reporter => app.Services.GetRequiredService<VolumeReporter>();

    private Dictionary<string, string?> Settings { get; }

    /// <summary>
    /// Starts an agent; with <paramref name="orchestrator"/> it registers, heartbeats and reports to it.
    /// Its token is the worker's at <paramref name="generation"/> (a worker never revoked is at 0);
    /// <paramref name="extra"/> adds or overrides settings (HTTPS, a CA).
    /// </summary>
    public static async Task<AgentInstance> StartAsync(
        string name,
        string secret = CollectorHarness.Secret,
        Uri? orchestrator = null,
        string? root = null,
        string listen = "http://127.0.0.1:0",
        long generation = 0,
        IDictionary<string, string?>? extra = null)
    {
        root ??= Directory.CreateTempSubdirectory($"atc-gc-agent-{name}-").FullName;
        var token = WorkerTokens.Derive(secret, name, generation);
        var settings = new Dictionary<string, string?>
        {
            ["Agent:Name"] = name,
            ["Agent:Root"] = root,
            ["Agent:Listen"] = listen,
            ["Agent:Token"] = token,
            ["Agent:Orchestrator"] = orchestrator?.ToString(),
            ["Agent:HeartbeatInterval"] = "00:00:00.500",
            ["Agent:ReportInterval"] = "00:00:01",
            ["Agent:ReportDebounce"] = "00:00:00.100",
            ["Agent:MaxRequestBytes"] = "65536",
            ["Agent:ResourceTypes:0"] = "git=git-image@1.0",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var app = AgentHost.Build(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), logging => logging.SetMinimumLevel(LogLevel.Warning));
        await app.StartAsync();
        return new AgentInstance(app, name, root, token, settings);
    }

    /// <summary>
    /// Stops the agent and starts it again on the same directory and port (what a crash and restart
    /// looks like), optionally pointed at another orchestrator or given a new token.
    /// </summary>
    public async Task RestartAsync(Uri? orchestrator = null, string? token = null)
    {
        var port = BaseUrl.Port;
        await app.StopAsync();
        await app.DisposeAsync();
        Settings["Agent:Listen"] = $"http://127.0.0.1:{port}";
        if (orchestrator is not null)
        {
            Settings["Agent:Orchestrator"] = orchestrator.ToString();
        }

        if (token is not null)
        {
            Settings["Agent:Token"] = Token = token;
        }

        app = AgentHost.Build(new ConfigurationBuilder().AddInMemoryCollection(Settings).Build(), logging => logging.SetMinimumLevel(LogLevel.Warning));
        await app.StartAsync();
    }

    public HttpClient Client(string? token = null)
    {
        var client = new HttpClient { BaseAddress = BaseUrl };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token ?? Token);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        if (Directory.Exists(Root))
        {
            // Overlay children are mounts: detached first, never removed through.
            AgentDirectory.Remove(Root);
        }
    }
}
