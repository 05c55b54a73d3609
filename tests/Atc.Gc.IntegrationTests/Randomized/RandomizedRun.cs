using System.Diagnostics;
using System.Globalization;
using System.Text;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Model;
using Atc.Gc.Operations;
using Atc.Gc.Scheduling;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Atc.Gc.IntegrationTests.Randomized;

/// <summary>
/// One seeded run: <see cref="Operations"/> steps, each a scheduler action, an operator command or a
/// fault, chosen by weight; faults heal after a random number of steps. Then faults stop, every build
/// finishes, the pipelines are deleted and held workers adopted, and the run waits until the database
/// holds no volume and no worker's disk holds any data.
/// </summary>
internal sealed class RandomizedRun(int operations, int seed, Action<string> say)
{
    private readonly Dictionary<string, int> tally = new(StringComparer.Ordinal);
    private readonly List<(int DueAt, string What, Func<Task> Heal)> healing = [];
    private readonly Random random = new(seed);
    private string activity = "starting";

    public int Faults { get; private set; }

    public int FailedSteps { get; private set; }

    public async Task<RunResult> RunAsync()
    {
        var clock = Stopwatch.StartNew();
        await using var cluster = await RandomizedCluster.StartAsync(agents: 3);
        await using var services = new ServiceCollection()
            .AddLogging()
            .AddAtcGcStore(cluster.DataSource)
            .AddAtcGcWorkerVolumes(new ConfigurationBuilder().AddInMemoryCollection(
                RandomizedCluster.Settings.Where(s => s.Key.StartsWith("Workers__", StringComparison.Ordinal))
                    .Select(s => KeyValuePair.Create(s.Key.Replace("__", ":", StringComparison.Ordinal), s.Value))).Build())
            .BuildServiceProvider();
        var store = services.GetRequiredService<AtcGcStore>();
        var monitor = new SafetyMonitor(cluster);
        var scheduler = new SimulatedScheduler(cluster, store, services.GetRequiredService<WorkerVolumes>(), monitor);
        await Eventually.TrueAsync(async () => (await store.Workers.ListAsync()).Count == cluster.Agents.Count, "every agent registered", TimeSpan.FromSeconds(60));
        await scheduler.SetUpAsync();

        using var stopMonitor = new CancellationTokenSource();
        var monitoring = monitor.RunAsync(stopMonitor.Token);
        for (var step = 0; step < operations; step++)
        {
            foreach (var due in healing.Where(h => h.DueAt <= step).ToList())
            {
                healing.Remove(due);
                activity = $"heal: {due.What}";
                await AttemptAsync($"heal: {due.What}", due.Heal);
            }

            if (step % 20 == 19)
            {
                activity = "new tokens for revoked workers";
                await AttemptAsync(null, () => RenewRevokedAsync(cluster));
            }

            var current = step;
            await AttemptAsync(null, () => StepAsync(current, cluster, store, scheduler));
            if (step % 250 == 249)
            {
                say($"  step {step + 1}: {scheduler.Running.Count} builds running, {monitor.Held} volumes held, {Faults} faults so far, {monitor.Violations.Count} violations");
            }
        }

        say($"operations done in {clock.Elapsed.TotalSeconds:F0}s; stopping the faults and releasing everything");
        var settleClock = Stopwatch.StartNew();
        foreach (var (_, what, heal) in healing.ToList())
        {
            await RetryAsync(what, heal);
        }

        await RetryAsync("every agent serving", async () =>
        {
            foreach (var agent in cluster.Agents)
            {
                agent.Resume();
                await agent.StartAsync(cluster.OrchestratorUrl);
            }

            await RenewRevokedAsync(cluster);
            await cluster.StartOrchestratorAsync();
            await cluster.StopSecondCollectorAsync();
        });
        await RetryAsync("every build finished", scheduler.FinishAllAsync);
        await monitor.CheckAsync();
        await stopMonitor.CancelAsync();
        await monitoring;

        await RetryAsync("the pipelines deleted", async () =>
        {
            await using var connection = await cluster.DataSource.OpenConnectionAsync();
            await connection.ExecuteAsync("DELETE FROM pipelines");
        });
        var leftovers = await SettleAsync(cluster, store, TimeSpan.FromSeconds(60));
        return new RunResult(
            operations, Faults, FailedSteps, monitor.Violations.ToList(), leftovers, tally, monitor.Latencies, monitor.Checks,
            scheduler.Started, scheduler.SetUpFailed, clock.Elapsed, settleClock.Elapsed, leftovers.Count == 0 ? null : cluster.Logs());
    }

    private async Task StepAsync(int step, RandomizedCluster cluster, AtcGcStore store, SimulatedScheduler scheduler)
    {
        var roll = random.Next(1000);
        switch (roll)
        {
            case < 380:
                activity = "start a build";
                Count(await scheduler.StartBuildAsync(random));
                break;
            case < 740:
                activity = "finish a build";
                Count(await scheduler.FinishBuildAsync(random));
                break;
            case < 800:
                scheduler.Commit(random);
                Count("commit");
                break;
            case < 830:
                var pipeline = random.Next(2) == 0 ? "web" : "api";
                activity = "clear-resource-cache";
                var cleared = await new CacheInvalidation(cluster.DataSource).ClearResourceCacheAsync(pipeline, "repo");
                Count($"operator: clear-resource-cache ({(cleared.Kept.Count > 0 ? "some kept" : "all cleared")})");
                break;
            case < 850:
                activity = "clear-task-cache";
                await new CacheInvalidation(cluster.DataSource).ClearTaskCacheAsync(random.Next(2) == 0 ? "web" : "api", random.Next(2) == 0 ? "build" : "test", "compile");
                Count("operator: clear-task-cache");
                break;
            case < 870:
                activity = "move a worker out";
                await MoveWorkerOutAsync(cluster, store, scheduler, step);
                break;
            case < 880:
                activity = "adopt";
                await AdoptAsync(store);
                break;
            case < 975:
                Count("idle");
                await Task.Delay(20);
                break;
            default:
                activity = "a fault";
                await FaultAsync(cluster, step);
                break;
        }
    }

    /// <summary>Land, retire or prune a worker, as an operator would (a worker pruned only when no build of ours runs on it).</summary>
    private async Task MoveWorkerOutAsync(RandomizedCluster cluster, AtcGcStore store, SimulatedScheduler scheduler, int step)
    {
        var agent = cluster.Agents[random.Next(cluster.Agents.Count)];
        var worker = await store.Workers.FindAsync(agent.Name);
        switch (random.Next(3))
        {
            case 0 when worker is { State: WorkerState.Running }:
                await store.Workers.LandAsync(agent.Name);
                Count("operator: land-worker");
                Later(step, $"{agent.Name} comes back from landing", async () =>
                {
                    await agent.KillAsync();
                    await agent.StartAsync(cluster.OrchestratorUrl); // an agent that starts again registers anew: running
                });
                break;
            case 1 when worker is { State: WorkerState.Running }:
                await store.Workers.RetireAsync(agent.Name);
                Count("operator: retire-worker");
                break;
            case 2 when worker is { State: WorkerState.Stalled or WorkerState.Landed } && scheduler.Running.All(b => b.Worker != agent.Name):
                await store.Workers.PruneAsync(agent.Name);
                Count("operator: prune-worker");
                break;
            default:
                Count("operator: nothing to move");
                break;
        }
    }

    /// <summary>
    /// A pruned or retired worker's token is revoked: its agent is refused until an operator gives it
    /// the new one (<c>atc-gc worker-token</c>) and restarts it, which is what this does.
    /// </summary>
    private async Task RenewRevokedAsync(RandomizedCluster cluster)
    {
        foreach (var agent in cluster.Agents)
        {
            if (await agent.RenewIfRevokedAsync(cluster.OrchestratorUrl))
            {
                Count("operator: new token for a revoked worker");
            }
        }
    }

    /// <summary>Workers held because most of what they reported is unknown: after a retire or a prune that is expected; the operator confirms.</summary>
    private async Task AdoptAsync(AtcGcStore store)
    {
        foreach (var worker in (await store.Workers.ListAsync()).Where(w => w.Hold is { Kind: "unknown" }))
        {
            await store.Workers.AdoptAsync(worker.Name);
            Count("operator: adopt-worker");
        }
    }

    private async Task FaultAsync(RandomizedCluster cluster, int step)
    {
        var serving = cluster.Agents.Where(a => a.Serving).ToList();
        switch (random.Next(5))
        {
            case 0 when serving.Count > 1:
                var killed = serving[random.Next(serving.Count)];
                await killed.KillAsync();
                Fault($"agent {killed.Name} killed", step, () => killed.StartAsync(cluster.OrchestratorUrl));
                break;
            case 1 when serving.Count > 1 && !cluster.Agents.Any(a => a.Hung):
                var hung = serving[random.Next(serving.Count)];
                hung.Hang();
                Fault($"agent {hung.Name} hung", step, () =>
                {
                    hung.Resume();
                    return Task.CompletedTask;
                });
                break;
            case 2 when cluster.OrchestratorUp:
                await cluster.KillOrchestratorAsync();
                Fault("orchestrator killed", step, cluster.StartOrchestratorAsync, longOutage: random.Next(3) == 0);
                break;
            case 3 when !cluster.SecondCollectorUp:
                cluster.StartSecondCollector();
                Fault("a second collector started", step, cluster.StopSecondCollectorAsync);
                break;
            case 4:
                await cluster.RestartPostgresAsync();
                Faults++;
                Count("fault: PostgreSQL restarted");
                break;
            default:
                Count("fault: none possible");
                break;
        }
    }

    private void Fault(string what, int step, Func<Task> heal, bool longOutage = false)
    {
        Faults++;
        Count($"fault: {what}");
        Later(step, what, heal, longOutage ? random.Next(150, 300) : random.Next(10, 80));
    }

    private void Later(int step, string what, Func<Task> heal, int? after = null) =>
        healing.Add((step + (after ?? random.Next(10, 80)), what, heal));

    private void Count(string what) => tally[what] = tally.GetValueOrDefault(what) + 1;

    /// <summary>
    /// A step that fails (the database restarting, a worker down) counts as failed; the run goes on. No
    /// step may take longer than <see cref="StepTimeout"/>: a hang fails the run, naming the step.
    /// </summary>
    private async Task AttemptAsync(string? what, Func<Task> step)
    {
        try
        {
            await step().WaitAsync(StepTimeout);
            if (what is not null)
            {
                Count(what.Split(':')[0]);
            }
        }
        catch (TimeoutException) when (what is null || !what.StartsWith("heal", StringComparison.Ordinal))
        {
            throw new TimeoutException($"a step ({activity}) did not finish within {StepTimeout.TotalSeconds:F0}s");
        }
        catch (Exception ex) when (ex is NpgsqlException or HttpRequestException or IOException or TimeoutException or InvalidOperationException or OperatorException)
        {
            FailedSteps++;
            Count($"failed step: {(ex is PostgresException pg ? $"PostgreSQL {pg.SqlState} ({pg.MessageText.Split(':')[0]})" : ex.GetType().Name)}");
        }
    }

    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(90);

    private static async Task RetryAsync(string what, Func<Task> action)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                await action();
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
            }
            catch (Exception ex)
            {
                throw new InvalidOperationException($"{what}: {ex.Message}", ex);
            }
        }
    }

    /// <summary>
    /// As an operator would once everything is released: brings landed workers back (their agents start
    /// again), adopts held workers, and waits until no volume is left in the database or on a disk;
    /// returns what is left when time runs out.
    /// </summary>
    private static async Task<IReadOnlyList<string>> SettleAsync(RandomizedCluster cluster, AtcGcStore store, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var left = new List<string>();
            try
            {
                foreach (var worker in await store.Workers.ListAsync())
                {
                    if (worker.Hold is not null)
                    {
                        await store.Workers.AdoptAsync(worker.Name);
                    }

                    if (worker.State == WorkerState.Landed)
                    {
                        var agent = cluster.Agents.Single(a => a.Name == worker.Name);
                        await agent.KillAsync();
                        await agent.StartAsync(cluster.OrchestratorUrl);
                    }
                }

                foreach (var agent in cluster.Agents)
                {
                    await agent.RenewIfRevokedAsync(cluster.OrchestratorUrl); // a retirement that completed while settling
                }

                await using var connection = await cluster.DataSource.OpenConnectionAsync();
                left.AddRange(await connection.QueryAsync<string>(
                    """
                    SELECT format('row %s on %s: %s%s%s', v.handle, v.worker_name, v.state,
                                  CASE WHEN v.last_delete_error IS NULL THEN '' ELSE ' (' || v.last_delete_error || ')' END,
                                  CASE WHEN w.state <> 'running' THEN ', worker ' || w.state ELSE '' END)
                    FROM volumes v JOIN workers w ON w.name = v.worker_name ORDER BY v.id
                    """));
            }
            catch (NpgsqlException ex)
            {
                left.Add($"database: {ex.Message}");
            }

            foreach (var agent in cluster.Agents)
            {
                left.AddRange(agent.HandlesOnDisk().Select(h => $"on {agent.Name}'s disk: {h}"));
                left.AddRange(agent.Leftovers().Select(l => $"on {agent.Name}'s disk: {l}"));
            }

            if (left.Count == 0 || DateTime.UtcNow > deadline)
            {
                return left;
            }

            await Task.Delay(500);
        }
    }
}

/// <summary>What a randomized run did and found.</summary>
internal sealed record RunResult(
    int Operations,
    int Faults,
    int FailedSteps,
    IReadOnlyList<string> Violations,
    IReadOnlyList<string> Leftovers,
    IReadOnlyDictionary<string, int> Tally,
    IReadOnlyList<(double Seconds, string Faults)> Latencies,
    long Checks,
    int BuildsStarted,
    int BuildsNotSetUp,
    TimeSpan Duration,
    TimeSpan Settled,
    string? Logs)
{
    public string Summary()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"operations: {Operations}, faults: {Faults}, failed steps: {FailedSteps}, violations: {Violations.Count}");
        text.AppendLine(CultureInfo.InvariantCulture, $"builds started: {BuildsStarted} ({BuildsNotSetUp} could not be set up); safety checks: {Checks}");
        foreach (var faults in new[] { "none", "an agent hung", "other faults" })
        {
            var name = faults == "none" ? "no fault" : faults == "an agent hung" ? "one agent hung, the others' volumes" : "other faults on";
            var sorted = Latencies.Where(l => l.Faults == faults).Select(l => l.Seconds).Order().ToList();
            text.AppendLine(sorted.Count == 0
                ? $"reclaim latency ({name}): no volume measured"
                : string.Create(CultureInfo.InvariantCulture, $"reclaim latency ({name}): p50 {Percentile(sorted, 50):F2}s, p99 {Percentile(sorted, 99):F2}s over {sorted.Count} volumes"));
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"after the faults stopped and everything was released: {(Leftovers.Count == 0 ? "database and disks empty" : $"{Leftovers.Count} left")} in {Settled.TotalSeconds:F1}s");
        text.AppendLine(CultureInfo.InvariantCulture, $"run took {Duration.TotalSeconds:F0}s");
        foreach (var (what, count) in Tally.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {what}: {count}");
        }

        return text.ToString();
    }

    private static double Percentile(List<double> sorted, double percentile) =>
        sorted[Math.Clamp((int)Math.Ceiling(percentile / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
}
