using System.Diagnostics;
using Atc.Gc.Embedded;
using Atc.Gc.Hosting;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Migrations;
using Atc.Gc.Workers;
using Npgsql;

namespace Atc.Gc.IntegrationTests.Randomized;

/// <summary>
/// Everything the randomized run drives, as real processes: its own PostgreSQL (so it can be
/// restarted), the orchestrator (<c>atc-gc serve</c>), worker agents (<c>atc-gc worker</c>), and at
/// times a second collector (<c>atc-gc collect</c>) on the same database. Each can be killed,
/// hung (SIGSTOP) and brought back.
/// </summary>
internal sealed class RandomizedCluster : IAsyncDisposable
{
    public const string Secret = "randomized-secret-0123456789abcdef";

    private readonly EmbeddedPostgres postgres;
    private readonly string directory;
    private AtcGcProcess? orchestrator;
    private AtcGcProcess? secondCollector;
    private IDisposable? orchestratorDown;

    private RandomizedCluster(
        EmbeddedPostgres postgres, NpgsqlDataSource dataSource, string directory, int orchestratorPort, IReadOnlyList<AgentNode> agents, FaultTimeline faults)
    {
        Faults = faults;
        this.postgres = postgres;
        this.directory = directory;
        DataSource = dataSource;
        OrchestratorUrl = new Uri($"http://127.0.0.1:{orchestratorPort}/");
        Agents = agents;
    }

    public NpgsqlDataSource DataSource { get; }

    public string ConnectionString => postgres.ConnectionString;

    public Uri OrchestratorUrl { get; }

    public IReadOnlyList<AgentNode> Agents { get; }

    public bool OrchestratorUp => orchestrator is { HasExited: false };

    public bool SecondCollectorUp => secondCollector is { HasExited: false };

    /// <summary>When each fault (an agent down or hung, the orchestrator down, the database restarting) was on.</summary>
    public FaultTimeline Faults { get; }

    /// <summary>The collector's and the worker client's settings: production rules, test-sized times.</summary>
    public static IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
    {
        ["Workers__TokenSecret"] = Secret,
        ["Workers__AttemptTimeout"] = "00:00:02",
        ["Workers__TotalTimeout"] = "00:00:04",
        ["Workers__Retries"] = "1",
        ["Workers__BreakDuration"] = "00:00:02",
        ["Collector__Interval"] = "00:00:01",
        ["Collector__StallAfter"] = "00:00:03",
        ["Collector__MissingReports"] = "3",
        ["Collector__FailedBuildGrace"] = "00:00:02",
        ["Collector__OneOffBuildGrace"] = "00:00:01",
        ["Collector__OneOffImageGrace"] = "00:00:02",
        ["Collector__ResourceConfigGrace"] = "00:00:02",
        ["Collector__CheckContainerLifetime"] = "00:00:10",
        ["Collector__SetupTimeout"] = "00:01:00",
        ["Collector__ClaimLease"] = "00:00:20",
        ["Collector__RetryBackoff"] = "00:00:00.500",
        ["Collector__MaxRetryBackoff"] = "00:00:02",
        ["Collector__PendingRecheck"] = "00:00:00.300",
        ["Orchestrator__UnknownVolumeGrace"] = "00:00:05",
    };

    public static async Task<RandomizedCluster> StartAsync(int agents)
    {
        var directory = Directory.CreateTempSubdirectory("atc-gc-randomized-").FullName;
        var postgres = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions
        {
            // Its own directory: the server's user must be able to reach it, and the agents' directory is private.
            Directory = Path.Combine(Path.GetTempPath(), $"atc-gc-randomized-{Guid.NewGuid():N}"[..30]),
            Database = "atc_gc_randomized",
            Ephemeral = true,
        });
        await DatabaseMigrator.MigrateAsync(postgres.ConnectionString);
        var dataSource = NpgsqlDataSource.Create(postgres.ConnectionString);
        var faults = new FaultTimeline();
        var nodes = Enumerable.Range(1, agents)
            .Select(i => new AgentNode($"w{i}", Path.Combine(directory, $"w{i}"), Loopback.FreePort(), faults, dataSource))
            .ToList();
        var cluster = new RandomizedCluster(postgres, dataSource, directory, Loopback.FreePort(), nodes, faults);
        try
        {
            await cluster.StartOrchestratorAsync();
            foreach (var agent in nodes)
            {
                await agent.StartAsync(cluster.OrchestratorUrl);
            }

            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public async Task StartOrchestratorAsync()
    {
        if (OrchestratorUp)
        {
            return;
        }

        orchestrator = AtcGcProcess.Start(["serve", "--database", ConnectionString, "--listen", OrchestratorUrl.ToString()], new Dictionary<string, string?>(Settings));
        using var client = new HttpClient { BaseAddress = OrchestratorUrl, Timeout = TimeSpan.FromSeconds(2) };
        await Loopback.WaitHealthyAsync(client, "the orchestrator", () => orchestrator.HasExited, TimeSpan.FromSeconds(60));
        orchestratorDown?.Dispose();
        orchestratorDown = null;
    }

    /// <summary>SIGKILL: the collector dies mid-pass, its claims expire.</summary>
    public async Task KillOrchestratorAsync()
    {
        if (orchestrator is not null)
        {
            orchestratorDown ??= Faults.Begin("orchestrator down");
            await orchestrator.KillAsync();
            await orchestrator.DisposeAsync();
            orchestrator = null;
        }
    }

    public void StartSecondCollector() =>
        secondCollector ??= AtcGcProcess.Start(["collect", "--database", ConnectionString], new Dictionary<string, string?>(Settings));

    public async Task StopSecondCollectorAsync()
    {
        if (secondCollector is not null)
        {
            await secondCollector.DisposeAsync();
            secondCollector = null;
        }
    }

    public async Task RestartPostgresAsync()
    {
        using (Faults.Begin("PostgreSQL restarting"))
        {
            await postgres.RestartAsync(CancellationToken.None);
        }
    }

    /// <summary>The last lines the processes printed, for a failure's message.</summary>
    public string Logs(int lines = 15) =>
        string.Join('\n', new[] { ("orchestrator", orchestrator?.Output), ("second collector", secondCollector?.Output) }
            .Concat(Agents.Select(a => ($"agent {a.Name}", a.Output)))
            .Where(p => p.Item2 is not null)
            .Select(p => $"--- {p.Item1}\n{string.Join('\n', p.Item2!.Split('\n').TakeLast(lines))}"));

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in Agents)
        {
            await agent.DisposeAsync();
        }

        await StopSecondCollectorAsync();
        await KillOrchestratorAsync();
        await DataSource.DisposeAsync();
        await postgres.DisposeAsync();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>
/// A worker agent process on a fixed port and directory, so it can die and come back as itself. It
/// starts with the token of its worker's current generation (as an operator would give it, from
/// <c>atc-gc worker-token</c>); once its worker is pruned or retired that token is revoked, and
/// <see cref="RenewIfRevokedAsync"/> restarts it with the new one.
/// </summary>
internal sealed class AgentNode(string name, string root, int port, FaultTimeline faults, NpgsqlDataSource dataSource) : IAsyncDisposable
{
    private AtcGcProcess? process;
    private long generation;
    private string? lastOutput;
    private IDisposable? down;
    private IDisposable? hung;

    public string Name { get; } = name;

    public string Root { get; } = root;

    public Uri BaseUrl { get; } = new($"http://127.0.0.1:{port}/");

    public bool Up => process is { HasExited: false };

    /// <summary>Stopped with SIGSTOP: the process lives but answers nothing.</summary>
    public bool Hung { get; private set; }

    /// <summary>Up and not hung: it can take work.</summary>
    public bool Serving => Up && !Hung;

    public string? Output => process?.Output ?? lastOutput;

    public string VolumePath(string handle) => Path.Combine(Root, "volumes", handle);

    public string DataPath(string handle) => Path.Combine(VolumePath(handle), "data");

    public IEnumerable<string> HandlesOnDisk() =>
        Directory.Exists(Path.Combine(Root, "volumes"))
            ? Directory.EnumerateDirectories(Path.Combine(Root, "volumes")).Select(Path.GetFileName).OfType<string>()
            : [];

    public IEnumerable<string> Leftovers() =>
        new[] { "dead", "creating" }.Select(d => Path.Combine(Root, d)).Where(Directory.Exists).SelectMany(Directory.EnumerateFileSystemEntries);

    public async Task StartAsync(Uri orchestrator)
    {
        if (Up)
        {
            return;
        }

        generation = await new WorkerCredentials(dataSource).GenerationAsync(Name);
        process = AtcGcProcess.Start(
            ["worker", "--name", Name, "--root", Root, "--listen", BaseUrl.ToString(), "--orchestrator", orchestrator.ToString(),
             "--heartbeat-interval", "500ms", "--report-interval", "1s"],
            new Dictionary<string, string?> { ["ATC_GC_WORKER_TOKEN"] = WorkerTokens.Derive(RandomizedCluster.Secret, Name, generation) });
        Hung = false;
        using var client = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(2) };
        await Loopback.WaitHealthyAsync(client, $"agent {Name}", () => process.HasExited, TimeSpan.FromSeconds(60));
        down?.Dispose();
        down = null;
    }

    /// <summary>
    /// When the worker's token was revoked since the agent started (it was pruned, or its retirement
    /// completed), restarts the agent with its new token; true when it did. A hung agent is left alone.
    /// </summary>
    public async Task<bool> RenewIfRevokedAsync(Uri orchestrator)
    {
        if (!Up || Hung || await new WorkerCredentials(dataSource).GenerationAsync(Name) == generation)
        {
            return false;
        }

        await KillAsync();
        await StartAsync(orchestrator);
        return true;
    }

    public async Task KillAsync()
    {
        if (process is not null)
        {
            down ??= faults.Begin($"agent {Name} down");
            Resume();
            await process.KillAsync();
            lastOutput = process.Output;
            await process.DisposeAsync();
            process = null;
            Hung = false;
        }
    }

    public void Hang()
    {
        if (Up && !Hung)
        {
            hung = faults.Begin($"agent {Name} hung", hang: true);
            Signal("STOP");
            Hung = true;
        }
    }

    public void Resume()
    {
        if (Hung)
        {
            Signal("CONT");
            Hung = false;
            hung?.Dispose();
            hung = null;
        }
    }

    public async ValueTask DisposeAsync() => await KillAsync();

    private void Signal(string signal)
    {
        if (process is null || process.HasExited)
        {
            return;
        }

        using var kill = Process.Start(new ProcessStartInfo("kill", $"-{signal} {process.Id}") { UseShellExecute = false });
        kill?.WaitForExit();
    }
}
