using System.Diagnostics;
using System.Globalization;
using Atc.Gc.Agent;
using Atc.Gc.Collection;
using Atc.Gc.Hosting;
using Atc.Gc.Workers;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Atc.Gc.Benchmarks.Scenarios;

/// <summary>
/// From invalidation to disk, as in production: the orchestrator (worker API and collector service,
/// every option at its default) in this process, and worker agents, each a process of its own, that
/// register, heartbeat and report to it. Caches are deleted; the collector service (woken by the change
/// signal) marks their volumes, deletes them on the agents over loopback HTTP and removes the rows.
/// Measured: per-volume latency from the invalidation until nothing of the volume is left on disk (not
/// in <c>volumes/</c>, not in <c>dead/</c>), with every agent well and with one agent hung (SIGSTOP: it
/// accepts connections and never answers) — the others' latency, against the same agents' without the
/// fault; one large invalidation end to end; and the HTTP deletion rate against the agents deleting the
/// same volumes locally (the floor), with the collector service stopped so passes are driven here.
/// </summary>
public static class ReclaimScenario
{
    public static async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = context.Options;
        await using var database = await context.Server.CreateAsync("bench_reclaim", cancellationToken);
        var dataSource = database.DataSource;
        var secret = WorkerTokens.NewSecret();
        await using var orchestrator = await BenchOrchestrator.StartAsync(dataSource, secret);
        var agents = new List<BenchAgent>();
        try
        {
            for (var i = 1; i <= options.ReclaimWorkers; i++)
            {
                var name = $"w{i}";
                var token = WorkerTokens.Derive(secret, name, await new WorkerCredentials(dataSource).GenerationAsync(name, cancellationToken));
                agents.Add(await StartAgentAsync(name, token, orchestrator.BaseUrl, cancellationToken));
            }

            await WaitRegisteredAsync(dataSource, agents, cancellationToken);

            // Every cache is used by a running build, so only the invalidation releases it.
            await ExecuteAsync(dataSource,
                """
                INSERT INTO base_resource_types (id, name) VALUES (1001, 'bench-git');
                INSERT INTO resource_configs (id, base_resource_type_id, source_hash) VALUES (1, 1001, 's');
                INSERT INTO pipelines (id, name) VALUES (1, 'p');
                INSERT INTO jobs (id, pipeline_id, name) VALUES (1, 1, 'j');
                INSERT INTO builds (id, job_id, name, status) VALUES (1, 1, '1', 'started');
                -- An active resource keeps the config between the runs' caches (the resource-configs collector).
                INSERT INTO resources (pipeline_id, name, resource_config_id) VALUES (1, 'r', 1);
                """, cancellationToken);

            var perRound = Math.Max(options.ReclaimWorkers, options.ReclaimVolumes / 40);
            var rounds = new List<IReadOnlyList<(string Worker, string Handle)>>();
            var hungRounds = new List<IReadOnlyList<(string Worker, string Handle)>>();
            var burstRounds = new List<IReadOnlyList<(string Worker, string Handle)>>();
            for (var round = 1; round <= options.ReclaimRounds; round++)
            {
                rounds.Add(await CreateVolumesAsync(dataSource, agents, cacheId: round, perRound, cancellationToken));
                hungRounds.Add(await CreateVolumesAsync(dataSource, agents, cacheId: 100 + round, perRound, cancellationToken));
                burstRounds.Add(await CreateVolumesAsync(dataSource, agents, cacheId: 200 + round, perRound, cancellationToken));
            }

            var bulk = await CreateVolumesAsync(dataSource, agents, cacheId: 99, options.ReclaimVolumes, cancellationToken);
            context.Say($"  {agents.Count} agents registered with the orchestrator, {rounds.Sum(r => r.Count) * 3 + bulk.Count:N0} volumes on disk");
            await Task.Delay(1000, cancellationToken);

            // The cluster's pass budget (Collector:MaxShareOfTime, 2 % of the wall clock) bounds how often
            // passes run: an invalidation is timed from a paid budget — as one arriving after the passes
            // before it were paid for — and the back-to-back run below shows the budget's bound instead.
            var budgetWaits = TimeSpan.Zero;

            // Every agent well. The last agent's volumes are left out of the comparison with the fault (it is the one hung then).
            var hung = agents[^1];
            var others = agents.Take(agents.Count - 1).ToList();
            var latencies = new List<double>();
            var othersWell = new List<double>();
            var roundsClock = Stopwatch.StartNew();
            foreach (var (round, index) in rounds.Select((r, i) => (r, i)))
            {
                budgetWaits += TimeSpan.FromSeconds(await WaitBudgetPaidAsync(dataSource, cancellationToken));
                var measured = await InvalidateAsync(dataSource, agents, [index + 1], round, cancellationToken);
                var all = measured.Values.SelectMany(v => v).ToList();
                context.Say($"  invalidation {index + 1}: p50 {Stats.Percentile(all, 50) / 1000:F2} s, slowest {all.Max() / 1000:F2} s");
                latencies.AddRange(all);
                othersWell.AddRange(measured.Where(m => m.Key != hung.Name).SelectMany(m => m.Value));
            }

            var roundsTime = roundsClock.Elapsed;
            var endToEndClock = Stopwatch.StartNew();
            await InvalidateAsync(dataSource, agents, [99], bulk, cancellationToken);
            var endToEnd = endToEndClock.Elapsed;
            context.Say($"  end to end: {bulk.Count:N0} volumes in {endToEnd.TotalSeconds:F1} s; the pass budget paid after {await WaitBudgetPaidAsync(dataSource, cancellationToken):F1} s");

            // One agent hung: it accepts connections and never answers; its heartbeats stop.
            var othersHung = new List<double>();
            Processes.Signal(hung.Process.Id, "STOP");
            try
            {
                foreach (var (round, index) in hungRounds.Select((r, i) => (r, i)))
                {
                    budgetWaits += TimeSpan.FromSeconds(await WaitBudgetPaidAsync(dataSource, cancellationToken));
                    var measured = await InvalidateAsync(dataSource, others, [101 + index], [.. round.Where(v => v.Worker != hung.Name)], cancellationToken);
                    othersHung.AddRange(measured.Values.SelectMany(v => v));
                }
            }
            finally
            {
                Processes.Signal(hung.Process.Id, "CONT");
            }

            context.Say($"  one agent hung: the others' p50 {Stats.Percentile(othersHung, 50) / 1000:F2} s, p99 {Stats.Percentile(othersHung, 99) / 1000:F2} s");

            // Back to back: each invalidation as soon as the one before is gone, the budget left to itself.
            await WaitBudgetPaidAsync(dataSource, cancellationToken);
            var burst = new List<double>();
            var burstClock = Stopwatch.StartNew();
            foreach (var (round, index) in burstRounds.Select((r, i) => (r, i)))
            {
                burst.AddRange((await InvalidateAsync(dataSource, agents, [201 + index], round, cancellationToken)).Values.SelectMany(v => v));
            }

            var burstTime = burstClock.Elapsed;
            context.Say($"  back to back: p50 {Stats.Percentile(burst, 50) / 1000:F2} s, p99 {Stats.Percentile(burst, 99) / 1000:F2} s in {burstTime.TotalSeconds:F1} s");
            var p50 = Stats.Percentile(latencies, 50) / 1000;
            var p99 = Stats.Percentile(latencies, 99) / 1000;
            var wellP50 = Stats.Percentile(othersWell, 50) / 1000;
            var wellP99 = Stats.Percentile(othersWell, 99) / 1000;
            var hungP50 = Stats.Percentile(othersHung, 50) / 1000;
            var hungP99 = Stats.Percentile(othersHung, 99) / 1000;
            context.Rows.Add(new BenchRow("reclaim", $"invalidation → gone from disk, {rounds.Count} invalidations of {perRound:N0} volumes",
                latencies.Count, roundsTime, Ratio: $"p50 {p50:F2} s, p99 {p99:F2} s",
                Target: "p50 ≤ 1 s, p99 ≤ 5 s", Met: p50 <= 1 && p99 <= 5,
                Note: $"{agents.Count} agent processes registered with the orchestrator (heartbeats, reports), loopback HTTP, default settings; gone = not in volumes/ nor dead/; each invalidation once the pass budget is paid ({budgetWaits.TotalSeconds:F0} s of waits in all, both runs)"));
            context.Rows.Add(new BenchRow("reclaim", $"one agent hung (SIGSTOP): the other {others.Count} agents, {hungRounds.Count} invalidations",
                othersHung.Count, TimeSpan.FromMilliseconds(othersHung.Sum()) / Math.Max(1, othersHung.Count),
                Ratio: $"p50 {hungP50:F2} s ({hungP50 / wellP50:F2}× no fault), p99 {hungP99:F2} s ({hungP99 / wellP99:F2}× no fault)",
                Target: "p50 and p99 ≤ 1.5× no fault", Met: hungP50 <= 1.5 * wellP50 && hungP99 <= 1.5 * wellP99,
                Note: $"no fault, the same agents: p50 {wellP50:F2} s, p99 {wellP99:F2} s; default collector and worker-client settings; time is the mean latency"));
            context.Rows.Add(new BenchRow("reclaim", $"{burstRounds.Count} invalidations of {perRound:N0} volumes back to back", burst.Count, burstTime,
                Ratio: $"p50 {Stats.Percentile(burst, 50) / 1000:F2} s, p99 {Stats.Percentile(burst, 99) / 1000:F2} s",
                Note: "each as soon as the one before is gone: after the pass budget's one-second burst a pass waits its cost ÷ Collector:MaxShareOfTime (2 %)"));
            context.Rows.Add(new BenchRow("reclaim", $"one invalidation of {bulk.Count:N0} volumes, end to end", bulk.Count, endToEnd,
                Note: "cache delete, orphan marking, HTTP deletion, data removed"));

            await WaitNoneDestroyingAsync(dataSource, cancellationToken);
            await orchestrator.StopCollectorAsync();
            await MeasureDeletionAsync(context, orchestrator, dataSource, agents, cancellationToken);
        }
        finally
        {
            foreach (var agent in agents)
            {
                agent.Dispose();
            }
        }
    }

    /// <summary>HTTP deletion alone against the floor, interleaved and repeated (this filesystem's speed drifts between runs).</summary>
    private static async Task MeasureDeletionAsync(
        BenchContext context, BenchOrchestrator orchestrator, NpgsqlDataSource dataSource, List<BenchAgent> agents, CancellationToken cancellationToken)
    {
        var options = context.Options;
        var gc = orchestrator.Services.GetRequiredService<GarbageCollector>();
        var requestLanes = orchestrator.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<CollectorOptions>>().Value.MaxConcurrentRequestsPerWorker;
        var httpTimes = new List<TimeSpan>();
        var localTimes = new List<TimeSpan>();
        for (var repeat = 0; repeat < options.Repeats; repeat++)
        {
            var cache = 200 + repeat;
            var http = await CreateVolumesAsync(dataSource, agents, cacheId: cache, options.ReclaimVolumes, cancellationToken);
            await ExecuteAsync(dataSource, $"DELETE FROM resource_cache_uses WHERE resource_cache_id = {cache}; DELETE FROM resource_caches WHERE id = {cache}", cancellationToken);
            await gc.RunPassAsync(new PassRequest(Only: ["orphaned-volumes"]), cancellationToken);
            // Until every row is gone: what a batch could not remove within its budget is answered pending,
            // confirmed by the agent's acknowledgement or asked about again (as the collector service would).
            var httpClock = Stopwatch.StartNew();
            await gc.RunPassAsync(new PassRequest(WaitForWorkers: true, Only: ["destroying-volumes"]), cancellationToken);
            while (await CountDestroyingAsync(dataSource, cancellationToken) > 0)
            {
                if (httpClock.Elapsed > TimeSpan.FromMinutes(5))
                {
                    throw new TimeoutException("destroying volumes were left after five minutes of HTTP deletion");
                }

                await Task.Delay(100, cancellationToken);
                await gc.RunPassAsync(new PassRequest(WaitForWorkers: true, Only: ["destroying-volumes"]), cancellationToken);
            }

            httpTimes.Add(httpClock.Elapsed);

            var local = new List<(int Lanes, TimeSpan Time)>();
            foreach (var lanesPerAgent in new[] { 1, requestLanes }.Distinct())
            {
                await CreateVolumesAsync(null, agents, cacheId: -lanesPerAgent, options.ReclaimVolumes, cancellationToken);
                local.Add((lanesPerAgent, await LocalDeleteAsync(agents, $"r-{lanesPerAgent}-", lanesPerAgent, cancellationToken)));
            }

            localTimes.Add(local.Min(l => l.Time));
            context.Say($"  deletion run {repeat + 1}: HTTP {httpTimes[^1].TotalSeconds:F2}s, local {string.Join(", ", local.Select(l => $"{l.Lanes} at a time {l.Time.TotalSeconds:F2}s"))}");
        }

        var share = Stats.MedianRatio(localTimes, httpTimes);
        context.Rows.Add(new BenchRow("reclaim", $"HTTP deletion of {options.ReclaimVolumes:N0} destroying volumes", options.ReclaimVolumes, Stats.Median(httpTimes),
            Ratio: $"{share:P0} of the local rate", Target: "≥ 80 % of the local rate", Met: share >= 0.8,
            Note: $"claims, POST /volumes/destroy, row deletes, until every row is gone; median of {options.Repeats}, ratio of adjacent runs"));
        context.Rows.Add(new BenchRow("reclaim", $"agents deleting {options.ReclaimVolumes:N0} volumes locally (floor)", options.ReclaimVolumes, Stats.Median(localTimes),
            Note: $"each agent's own store in a process of its own, no HTTP, no database; 1 or {requestLanes} at a time, the faster; median of {options.Repeats}"));
    }

    /// <summary>A worker agent in a process of its own (as in production: its own thread pool), registered with the orchestrator, and a store on its directory.</summary>
    private sealed class BenchAgent(string name, string root, Uri baseUrl, Process process, VolumeStore store) : IDisposable
    {
        public string Name { get; } = name;

        public string Root { get; } = root;

        public Uri BaseUrl { get; } = baseUrl;

        public Process Process { get; } = process;

        public VolumeStore Store { get; } = store;

        public void Dispose()
        {
            Processes.Signal(Process.Id, "CONT");
            Process.Kill(entireProcessTree: true);
            Process.WaitForExit();
            Process.Dispose();
            AgentDirectory.Remove(Root);
        }
    }

    private static async Task<BenchAgent> StartAgentAsync(string name, string token, Uri orchestrator, CancellationToken cancellationToken)
    {
        var root = Directory.CreateTempSubdirectory($"atc-gc-bench-{name}-").FullName;
        var port = Loopback.FreePort();
        var baseUrl = new Uri($"http://127.0.0.1:{port}/");
        var start = SelfProcess.StartInfo([
            "agent", "--name", name, "--root", root, "--listen", baseUrl.ToString(), "--orchestrator", orchestrator.ToString()]);
        start.Environment["ATC_GC_WORKER_TOKEN"] = token;
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start a worker agent");
        using var client = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(2) };
        await Loopback.WaitHealthyAsync(client, $"worker agent {name}", () => process.HasExited, TimeSpan.FromSeconds(60), cancellationToken);
        return new BenchAgent(name, root, baseUrl, process, VolumeStore.Open(root, recover: false));
    }

    private static async Task WaitRegisteredAsync(NpgsqlDataSource dataSource, List<BenchAgent> agents, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await using var command = dataSource.CreateCommand("SELECT count(*) FROM workers WHERE state = 'running'");
            if ((long)(await command.ExecuteScalarAsync(cancellationToken))! >= agents.Count)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("the worker agents did not register with the orchestrator");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>Waits until the cluster's pass budget is paid (a change signal would get its pass at once); returns the seconds waited.</summary>
    private static async Task<double> WaitBudgetPaidAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMinutes(10))
        {
            await using var command = dataSource.CreateCommand("SELECT coalesce((SELECT free_at <= now() FROM collector_budget), true)");
            if ((bool)(await command.ExecuteScalarAsync(cancellationToken))!)
            {
                return clock.Elapsed.TotalSeconds;
            }

            await Task.Delay(250, cancellationToken);
        }

        throw new TimeoutException("the cluster's pass budget was not paid within 10 minutes");
    }

    private static async Task WaitNoneDestroyingAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddMinutes(5);
        while (DateTime.UtcNow < deadline && await CountDestroyingAsync(dataSource, cancellationToken) > 0)
        {
            await Task.Delay(200, cancellationToken);
        }
    }

    private static async Task<long> CountDestroyingAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM volumes WHERE state = 'destroying'");
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Runs the local deletion in one process per agent, all at once; the floor's time is the slowest process's.</summary>
    private static async Task<TimeSpan> LocalDeleteAsync(List<BenchAgent> agents, string prefix, int lanes, CancellationToken cancellationToken)
    {
        var runs = agents.Select(async agent =>
        {
            var start = SelfProcess.StartInfo(["local-delete", "--root", agent.Root, "--prefix", prefix, "--lanes", lanes.ToString(CultureInfo.InvariantCulture)]);
            start.RedirectStandardOutput = true;
            using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start local-delete");
            var output = await process.StandardOutput.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            return double.Parse(output.Trim(), CultureInfo.InvariantCulture);
        }).ToList();
        return TimeSpan.FromSeconds((await Task.WhenAll(runs)).Max());
    }

    /// <summary>Volumes on disk (through the agents' own store) and, when <paramref name="dataSource"/> is given, as rows held by one cache.</summary>
    private static async Task<IReadOnlyList<(string Worker, string Handle)>> CreateVolumesAsync(
        NpgsqlDataSource? dataSource, List<BenchAgent> agents, int cacheId, int count, CancellationToken cancellationToken)
    {
        var volumes = Enumerable.Range(0, count).Select(i => (Worker: agents[i % agents.Count].Name, Handle: $"r{cacheId}-{i}")).ToList();
        await Task.WhenAll(agents.Select(agent => Task.Run(async () =>
        {
            // The agent, and the local deletions, delete behind this store's back: its listing must see that.
            agent.Store.Reconcile();
            foreach (var (_, handle) in volumes.Where(v => v.Worker == agent.Name))
            {
                var (outcome, _) = await agent.Store.CreateAsync(handle, VolumeStrategy.Empty, new Dictionary<string, string>(), cancellationToken);
                if (outcome != CreateOutcome.Created)
                {
                    throw new InvalidOperationException($"volume {handle} was not made on {agent.Name}: {outcome}");
                }
            }
        }, cancellationToken)));
        if (dataSource is null)
        {
            return volumes;
        }

        await ExecuteAsync(dataSource,
            $$"""
            INSERT INTO resource_caches (id, resource_config_id, version, version_digest, params_hash) VALUES ({{cacheId}}, 1, '{}', 'd{{cacheId}}', '');
            INSERT INTO resource_cache_uses (resource_cache_id, build_id) VALUES ({{cacheId}}, 1);
            """, cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var writer = await connection.BeginTextImportAsync("COPY volumes (handle, worker_name, state, resource_cache_id) FROM STDIN", cancellationToken))
        {
            foreach (var (worker, handle) in volumes)
            {
                await writer.WriteAsync($"{handle}\t{worker}\tinitialized\t{cacheId.ToString(CultureInfo.InvariantCulture)}\n");
            }
        }

        return volumes;
    }

    /// <summary>
    /// Clears the caches (their uses, then them, in one transaction) and waits until nothing of every volume
    /// is left on its agent's disk; each volume's latency in milliseconds, by worker.
    /// </summary>
    private static async Task<Dictionary<string, List<double>>> InvalidateAsync(
        NpgsqlDataSource dataSource, List<BenchAgent> agents,
        int[] cacheIds, IReadOnlyList<(string Worker, string Handle)> volumes, CancellationToken cancellationToken)
    {
        var pending = volumes.GroupBy(v => v.Worker).ToDictionary(g => g.Key, g => g.Select(v => v.Handle).ToHashSet(StringComparer.Ordinal));
        var latencies = pending.Keys.ToDictionary(w => w, _ => new List<double>());
        var clock = Stopwatch.StartNew();
        var ids = string.Join(',', cacheIds);
        await ExecuteAsync(dataSource, $"DELETE FROM resource_cache_uses WHERE resource_cache_id IN ({ids}); DELETE FROM resource_caches WHERE id IN ({ids})", cancellationToken);
        var deadline = TimeSpan.FromMinutes(5);
        while (pending.Values.Any(p => p.Count > 0))
        {
            if (clock.Elapsed > deadline)
            {
                throw new TimeoutException($"{pending.Values.Sum(p => p.Count)} volumes were not reclaimed within {deadline}");
            }

            await Task.Delay(10, cancellationToken);
            var now = clock.Elapsed.TotalMilliseconds;
            foreach (var agent in agents)
            {
                if (!pending.TryGetValue(agent.Name, out var left) || left.Count == 0)
                {
                    continue;
                }

                var present = Directory.EnumerateDirectories(Path.Combine(agent.Root, "volumes")).Select(Path.GetFileName)
                    .Concat(Directory.EnumerateFileSystemEntries(Path.Combine(agent.Root, "dead")).Select(HandleOfGrave))
                    .ToHashSet(StringComparer.Ordinal);
                foreach (var handle in left.Where(h => !present.Contains(h)).ToList())
                {
                    left.Remove(handle);
                    latencies[agent.Name].Add(now);
                }
            }
        }

        return latencies;
    }

    /// <summary><c>dead/&lt;handle&gt;.&lt;id&gt;</c> → the handle.</summary>
    private static string HandleOfGrave(string path)
    {
        var name = Path.GetFileName(path);
        var dot = name.LastIndexOf('.');
        return dot > 0 ? name[..dot] : name;
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

/// <summary>Signals to processes (<c>kill -STOP</c>, <c>-CONT</c>).</summary>
internal static class Processes
{
    public static void Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }
}
