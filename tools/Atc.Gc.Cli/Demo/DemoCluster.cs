using Atc.Gc.Database;
using Atc.Gc.Embedded;
using Atc.Gc.Hosting;
using Atc.Gc.Scheduling;
using Atc.Gc.Server;
using Atc.Gc.Web;
using Atc.Gc.Workers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atc.Gc.Cli.Demo;

/// <summary>
/// Everything the demo runs: the embedded PostgreSQL (a fresh <c>atc_gc_demo</c> database), the
/// orchestrator in this process, and worker agents as separate processes with their volumes under
/// a demo directory.
/// </summary>
internal sealed class DemoCluster : IAsyncDisposable
{
    private readonly ServiceProvider scheduler;

    private DemoCluster(string directory, AtcGcDatabase database, WebApplication orchestrator, IReadOnlyList<AgentProcess> agents, IConfiguration configuration)
    {
        Directory = directory;
        Database = database;
        Orchestrator = orchestrator;
        Agents = agents;
        scheduler = new ServiceCollection().AddLogging().AddAtcGcStore(database.DataSource).AddAtcGcWorkerVolumes(configuration).BuildServiceProvider();
        Store = scheduler.GetRequiredService<AtcGcStore>();
        Volumes = scheduler.GetRequiredService<WorkerVolumes>();
    }

    public string Directory { get; }

    public AtcGcDatabase Database { get; }

    public WebApplication Orchestrator { get; }

    public IReadOnlyList<AgentProcess> Agents { get; }

    public AtcGcStore Store { get; }

    /// <summary>The library's operations the simulated scheduler makes volumes on the workers with.</summary>
    public WorkerVolumes Volumes { get; }

    public bool KeepDirectory { get; set; }

    public static async Task<DemoCluster> StartAsync(DemoOptions options, string? connectionString, Action<string> progress, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"atc-gc-demo-{Environment.ProcessId}");
        System.IO.Directory.CreateDirectory(directory);
        progress($"demo directory {directory}");

        var database = connectionString is null
            ? await EmbeddedDatabase.OpenAsync(new EmbeddedPostgresOptions { Database = "atc_gc_demo", FreshDatabase = true }, cancellationToken: cancellationToken)
            : await AtcGcDatabase.OpenAsync(connectionString, cancellationToken: cancellationToken);
        if (connectionString is not null && (await new WorkerRepository(database.DataSource).ListAsync(cancellationToken)).Count > 0)
        {
            await database.DisposeAsync();
            throw new UsageException("the demo needs an empty database: the configured one already has workers");
        }

        progress($"database {database.Describe()}");
        var secret = WorkerTokens.NewSecret();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(Settings(secret)).Build();
        var orchestrator = OrchestratorHost.Build(configuration, database.DataSource, logging =>
        {
            logging.AddSimpleConsole(console => console.SingleLine = true);
            logging.SetMinimumLevel(LogLevel.Warning);
            logging.AddFilter("Atc.Gc.Collection.WorkerDeleter", LogLevel.None);
            logging.AddFilter("Atc.Gc.Collection.GarbageCollector", LogLevel.Critical);
            logging.AddFilter("Polly", LogLevel.None);
        });
        await orchestrator.StartAsync(cancellationToken);
        var orchestratorUrl = ServerAddresses.First(orchestrator.Services.GetRequiredService<IServer>());
        progress($"orchestrator listening on {orchestratorUrl}");

        var agents = new List<AgentProcess>();
        var credentials = new WorkerCredentials(database.DataSource);
        for (var i = 1; i <= options.Workers; i++)
        {
            var name = $"worker-{i}";
            var token = WorkerTokens.Derive(secret, name, await credentials.GenerationAsync(name, cancellationToken));
            agents.Add(new AgentProcess(name, Path.Combine(directory, name), Loopback.FreePort(), token, orchestratorUrl, Path.Combine(directory, $"{name}.log")));
        }

        foreach (var agent in agents)
        {
            agent.Start();
        }

        await Task.WhenAll(agents.Select(a => a.WaitReadyAsync(cancellationToken)));
        var store = new WorkerRepository(database.DataSource);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await store.ListAsync(cancellationToken)).Count < agents.Count)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("the worker agents did not register with the orchestrator");
            }

            await Task.Delay(100, cancellationToken);
        }

        progress($"{agents.Count} worker agents registered: {string.Join(", ", agents.Select(a => $"{a.Name} on {a.BaseUrl}"))}");
        return new DemoCluster(directory, database, orchestrator, agents, configuration);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in Agents)
        {
            await agent.DisposeAsync();
        }

        await scheduler.DisposeAsync();
        await Orchestrator.StopAsync();
        await Orchestrator.DisposeAsync();
        await Database.DisposeAsync();
        if (!KeepDirectory)
        {
            try
            {
                // The agents' overlay children are mounts: detached first, never removed through.
                Atc.Gc.Agent.AgentDirectory.Remove(Directory);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Production defaults scaled down so a minute shows every rule at work.</summary>
    private static Dictionary<string, string?> Settings(string secret) => new()
    {
        ["Orchestrator:Listen"] = "http://127.0.0.1:0",
        ["Orchestrator:UnknownVolumeGrace"] = "00:00:30",
        ["Workers:TokenSecret"] = secret,
        ["Workers:AttemptTimeout"] = "00:00:02",
        ["Workers:TotalTimeout"] = "00:00:04",
        ["Workers:Retries"] = "1",
        ["Workers:BreakDuration"] = "00:00:02",
        ["Collector:Interval"] = "00:00:02",
        ["Collector:StallAfter"] = "00:00:03",
        ["Collector:FailedBuildGrace"] = "00:00:04",
        ["Collector:OneOffBuildGrace"] = "00:00:01",
        ["Collector:ResourceConfigGrace"] = "00:00:05",
        ["Collector:MissingReports"] = "3",
        ["Collector:ClaimLease"] = "00:00:20",
        ["Collector:RetryBackoff"] = "00:00:00.500",
        ["Collector:MaxRetryBackoff"] = "00:00:02",
    };
}
