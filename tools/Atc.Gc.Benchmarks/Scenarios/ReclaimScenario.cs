using System.Diagnostics;
using System.Globalization;
using Atc.Gc.Agent;
using Atc.Gc.Collection;
using Atc.Gc.Hosting;
using Atc.Gc.Workers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Atc.Gc.Benchmarks.Scenarios;

/// <summary>
/// From invalidation to disk: caches are deleted, and the collector service (woken by the change
/// signal) marks their volumes, deletes them on real worker agents (each a process of its own) over
/// loopback HTTP, and removes the rows. Measured: per-volume latency from the invalidation to the
/// directory's disappearance over several invalidations; throughput of one large invalidation; and,
/// as the floor, the agents deleting the same number of volumes locally, with no HTTP and no database.
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
        var agents = new List<BenchAgent>();
        try
        {
            for (var i = 1; i <= options.ReclaimWorkers; i++)
            {
                var name = $"w{i}";
                var token = WorkerTokens.Derive(secret, name, await new WorkerCredentials(dataSource).GenerationAsync(name, cancellationToken));
                agents.Add(await StartAgentAsync(name, token, cancellationToken));
            }

            foreach (var agent in agents)
            {
                await ExecuteAsync(dataSource, $"INSERT INTO workers (name, base_url) VALUES ('{agent.Name}', '{agent.BaseUrl}')", cancellationToken);
            }

            // Every cache is used by a running build, so only the invalidation releases it.
            await ExecuteAsync(dataSource,
                """
                INSERT INTO base_resource_types (id, name) VALUES (1, 'git');
                INSERT INTO resource_configs (id, base_resource_type_id, source_hash) VALUES (1, 1, 's');
                INSERT INTO pipelines (id, name) VALUES (1, 'p');
                INSERT INTO jobs (id, pipeline_id, name) VALUES (1, 1, 'j');
                INSERT INTO builds (id, job_id, name, status) VALUES (1, 1, '1', 'started');
                """, cancellationToken);

            // Latency: one cache at a time, each holding a batch of volumes spread over the workers.
            var perRound = Math.Max(options.ReclaimWorkers, options.ReclaimVolumes / 40);
            var rounds = new List<IReadOnlyList<(string Worker, string Handle)>>();
            for (var round = 1; round <= options.ReclaimRounds; round++)
            {
                rounds.Add(await CreateVolumesAsync(dataSource, agents, cacheId: round, perRound, cancellationToken));
            }

            var bulk = await CreateVolumesAsync(dataSource, agents, cacheId: options.ReclaimRounds + 1, options.ReclaimVolumes, cancellationToken);
            context.Say($"  {agents.Count} agents, {rounds.Sum(r => r.Count) + bulk.Count:N0} volumes on disk");

            var settings = new Dictionary<string, string?>
            {
                ["Workers:TokenSecret"] = secret,
                ["Workers:AttemptTimeout"] = "00:00:30",
                ["Workers:TotalTimeout"] = "00:01:00",
                ["Collector:ClaimLease"] = "00:05:00",
                ["Collector:Interval"] = "00:01:00",
            };
            await using var collector = BenchContext.Collector(dataSource, settings, service: true);
            var service = collector.GetServices<IHostedService>().OfType<CollectorService>().Single();
            await service.StartAsync(cancellationToken);
            await Task.Delay(1000, cancellationToken);

            // End to end, woken by the change signal: each invalidation's volumes, from the invalidation to gone from disk.
            var latencies = new List<double>();
            var roundsClock = Stopwatch.StartNew();
            for (var round = 0; round < rounds.Count; round++)
            {
                latencies.AddRange(await InvalidateAsync(dataSource, agents, [round + 1], rounds[round], cancellationToken));
            }

            var roundsTime = roundsClock.Elapsed;
            var endToEndClock = Stopwatch.StartNew();
            await InvalidateAsync(dataSource, agents, [options.ReclaimRounds + 1], bulk, cancellationToken);
            var endToEnd = endToEndClock.Elapsed;
            await service.StopAsync(CancellationToken.None);

            // HTTP deletion alone against the floor, interleaved and repeated (this filesystem's speed drifts between runs).
            // HTTP: volumes already destroying, deleted on the agents by one pass of the destroying collector. Floor: each
            // agent's own process deleting as many volumes locally, one at a time and as many at a time as the collector
            // sends requests, whichever is faster.
            var gc = collector.GetRequiredService<GarbageCollector>();
            var requestLanes = collector.GetRequiredService<Microsoft.Extensions.Options.IOptions<CollectorOptions>>().Value.MaxConcurrentRequestsPerWorker;
            var httpTimes = new List<TimeSpan>();
            var localTimes = new List<TimeSpan>();
            for (var repeat = 0; repeat < options.Repeats; repeat++)
            {
                var cache = options.ReclaimRounds + 2 + repeat;
                var http = await CreateVolumesAsync(dataSource, agents, cacheId: cache, options.ReclaimVolumes, cancellationToken);
                await ExecuteAsync(dataSource, $"DELETE FROM resource_cache_uses WHERE resource_cache_id = {cache}; DELETE FROM resource_caches WHERE id = {cache}", cancellationToken);
                await gc.RunPassAsync(new PassRequest(Only: ["orphaned-volumes"]), cancellationToken);
                var httpClock = Stopwatch.StartNew();
                var httpPass = await gc.RunPassAsync(new PassRequest(WaitForWorkers: true, Only: ["destroying-volumes"]), cancellationToken);
                httpTimes.Add(httpClock.Elapsed);
                if (httpPass.Changed != http.Count)
                {
                    throw new InvalidOperationException($"the destroying collector deleted {httpPass.Changed} of {http.Count} volumes");
                }

                var local = new List<(int Lanes, TimeSpan Time)>();
                foreach (var lanesPerAgent in new[] { 1, requestLanes }.Distinct())
                {
                    await CreateVolumesAsync(null, agents, cacheId: -lanesPerAgent, options.ReclaimVolumes, cancellationToken);
                    local.Add((lanesPerAgent, await LocalDeleteAsync(agents, $"r-{lanesPerAgent}-", lanesPerAgent, cancellationToken)));
                }

                localTimes.Add(local.Min(l => l.Time));
                context.Say($"  deletion run {repeat + 1}: HTTP {httpTimes[^1].TotalSeconds:F2}s, local {string.Join(", ", local.Select(l => $"{l.Lanes} at a time {l.Time.TotalSeconds:F2}s"))}");
            }

            var httpTime = Stats.Median(httpTimes);
            var localTime = Stats.Median(localTimes);
            var deleted = options.ReclaimVolumes;

            var p50 = Stats.Percentile(latencies, 50) / 1000;
            var p99 = Stats.Percentile(latencies, 99) / 1000;
            var share = Stats.MedianRatio(localTimes, httpTimes);
            context.Rows.Add(new BenchRow("reclaim", $"invalidation → gone from disk, {rounds.Count} invalidations of {perRound:N0} volumes",
                latencies.Count, roundsTime, Ratio: $"p50 {p50:F2} s, p99 {p99:F2} s",
                Target: "p50 ≤ 1 s, p99 ≤ 5 s", Met: p50 <= 1 && p99 <= 5, Note: $"{agents.Count} agents over loopback HTTP, woken by the change signal"));
            context.Rows.Add(new BenchRow("reclaim", $"one invalidation of {bulk.Count:N0} volumes, end to end", bulk.Count, endToEnd,
                Note: "cache delete, orphan marking and HTTP deletion"));
            context.Rows.Add(new BenchRow("reclaim", $"HTTP deletion of {deleted:N0} destroying volumes", deleted, httpTime,
                Ratio: $"{share:P0} of the local rate", Target: "≥ 80 % of the local rate", Met: share >= 0.8,
                Note: $"claim, POST /volumes/destroy, row delete; median of {options.Repeats}, ratio of adjacent runs"));
            context.Rows.Add(new BenchRow("reclaim", $"agents deleting {deleted:N0} volumes locally (floor)", deleted, localTime,
                Note: $"each agent's own process, no HTTP, no database; 1 or {requestLanes} at a time, the faster; median of {options.Repeats}"));
        }
        finally
        {
            foreach (var agent in agents)
            {
                agent.Dispose();
            }
        }
    }

    /// <summary>A worker agent in a process of its own (as in production: its own thread pool), and the store on its directory.</summary>
    private sealed class BenchAgent(string name, string root, Uri baseUrl, Process process, VolumeStore store) : IDisposable
    {
        public string Name { get; } = name;

        public string Root { get; } = root;

        public Uri BaseUrl { get; } = baseUrl;

        public VolumeStore Store { get; } = store;

        public void Dispose()
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            process.Dispose();
            Directory.Delete(Root, recursive: true);
        }
    }

    private static async Task<BenchAgent> StartAgentAsync(string name, string token, CancellationToken cancellationToken)
    {
        var root = Directory.CreateTempSubdirectory($"atc-gc-bench-{name}-").FullName;
        var port = Loopback.FreePort();
        var baseUrl = new Uri($"http://127.0.0.1:{port}/");
        var start = SelfProcess.StartInfo(["agent", "--name", name, "--root", root, "--listen", baseUrl.ToString(), "--token", token]);
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start a worker agent");
        using var client = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(2) };
        await Loopback.WaitHealthyAsync(client, $"worker agent {name}", () => process.HasExited, TimeSpan.FromSeconds(60), cancellationToken);
        return new BenchAgent(name, root, baseUrl, process, new VolumeStore(root, Microsoft.Extensions.Logging.Abstractions.NullLogger<VolumeStore>.Instance));
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
            foreach (var (_, handle) in volumes.Where(v => v.Worker == agent.Name))
            {
                await agent.Store.CreateAsync(handle, VolumeStrategy.Empty, new Dictionary<string, string>(), cancellationToken);
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

    /// <summary>Clears the caches (their uses, then them, in one transaction) and waits until every volume's directory is gone; returns each volume's latency in milliseconds.</summary>
    private static async Task<List<double>> InvalidateAsync(
        NpgsqlDataSource dataSource, List<BenchAgent> agents,
        int[] cacheIds, IReadOnlyList<(string Worker, string Handle)> volumes, CancellationToken cancellationToken)
    {
        var pending = volumes.GroupBy(v => v.Worker).ToDictionary(g => g.Key, g => g.Select(v => v.Handle).ToHashSet(StringComparer.Ordinal));
        var latencies = new List<double>(volumes.Count);
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

                var present = Directory.EnumerateDirectories(Path.Combine(agent.Root, "volumes")).Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
                var gone = left.Where(h => !present.Contains(h)).ToList();
                foreach (var handle in gone)
                {
                    left.Remove(handle);
                    latencies.Add(now);
                }
            }
        }

        return latencies;
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
