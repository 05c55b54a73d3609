using System.CommandLine;
using System.Globalization;
using Atc.Gc.Inspection;
using Atc.Gc.Lifecycle;
using Atc.Gc.Model;
using Atc.Gc.Operations;
using Dapper;

namespace Atc.Gc.Cli.Demo;

/// <summary>
/// <c>atc-gc demo</c>: the whole system on one machine. The embedded PostgreSQL, the orchestrator and
/// three worker agent processes start; a simulated scheduler runs builds; an operator clears a
/// resource cache, a worker lands, another is killed and comes back. Live progress shows volumes and
/// bytes per worker, what was reclaimed and how fast. It ends with a check — no volume a running
/// build used was deleted, and the database and the worker disks agree — and exits 4 if it fails.
/// </summary>
public static class DemoCommand
{
    public static Command Create(CliContext context)
    {
        var duration = CliOptions.Duration("--duration", "How long builds are scheduled (default 40s; 10s with --quick)");
        var quick = new Option<bool>("--quick") { Description = "A short run (about half a minute) with a faster pace" };
        var workers = new Option<int>("--workers") { Description = "Worker agents to start (2 to 8)", DefaultValueFactory = _ => 3 };
        var concurrency = new Option<int>("--concurrency") { Description = "Builds running at once", DefaultValueFactory = _ => 6 };
        var seed = new Option<int>("--seed") { Description = "Seed of the simulated scheduler", DefaultValueFactory = _ => 1 };
        var keep = new Option<bool>("--keep") { Description = "Keep the demo directory (volumes, agent logs) afterwards" };
        var command = new Command("demo", "Run the whole system on this machine and check it: database, orchestrator, three worker agents, a simulated scheduler")
        {
            duration, quick, workers, concurrency, seed, keep,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var isQuick = parse.GetValue(quick);
            var workerCount = parse.GetValue(workers);
            if (workerCount is < 2 or > 8)
            {
                throw new UsageException("--workers must be between 2 and 8");
            }

            if (parse.GetValue(concurrency) is < 1 or > 64)
            {
                throw new UsageException("--concurrency must be between 1 and 64");
            }

            var options = new DemoOptions(
                parse.GetValue(duration) ?? (isQuick ? TimeSpan.FromSeconds(10) : TimeSpan.FromSeconds(40)),
                workerCount, parse.GetValue(concurrency), parse.GetValue(seed), isQuick);
            return await RunAsync(context, options, context.ChooseDemoDatabase(parse).ConnectionString, parse.GetValue(keep), cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, DemoOptions options, string? connectionString, bool keep, CancellationToken cancellationToken)
    {
        var ledger = new DemoLedger();
        void Say(string line) => Console.Out.WriteLine($"[{ledger.Clock.Elapsed.TotalSeconds,5:F1}s] {line}");

        Say("starting: embedded PostgreSQL, the orchestrator, worker agents");
        await using var cluster = await DemoCluster.StartAsync(options, connectionString, Say, cancellationToken);
        cluster.KeepDirectory = keep;
        var scheduler = new DemoScheduler(cluster, options, ledger);
        await scheduler.SetUpAsync(cancellationToken);
        var watcher = new DiskWatcher(cluster.Agents, ledger);
        using var stopWatching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watching = watcher.RunAsync(stopWatching.Token);
        var progress = ProgressAsync(cluster, watcher, ledger, options, Say, stopWatching.Token);

        Say($"scheduling builds for {options.BuildPhase.TotalSeconds:F0}s on {options.Concurrency} lanes");
        using var stopBuilds = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var building = scheduler.RunAsync(stopBuilds.Token);
        var phaseStart = ledger.Clock.Elapsed;
        await EventsAsync(cluster, scheduler, options, ledger, phaseStart, Say, cancellationToken);
        await WaitUntilAsync(ledger, phaseStart + options.BuildPhase, cancellationToken);
        await stopBuilds.CancelAsync();
        Say("no new builds; waiting for running builds to finish");
        await building;

        Say("waiting for the collector to settle");
        var settled = await SettleAsync(cluster, watcher, options, cancellationToken);
        await stopWatching.CancelAsync();
        await watching;
        await progress;
        watcher.Scan();

        var disagreements = await DisagreementsAsync(cluster, watcher, cancellationToken);
        var violations = ledger.Violations;
        var latencies = ledger.Latencies;
        var outage = ledger.OutageLatencies;
        Console.Out.WriteLine();
        Console.Out.WriteLine($"builds: {ledger.Builds} ({ledger.ErroredBuilds} errored while a worker was down)");
        Console.Out.WriteLine($"volumes: {ledger.VolumesCreated} created, {ledger.ReclaimedVolumes} reclaimed ({Bytes(ledger.ReclaimedBytes)}); " +
                              $"{ledger.ChildrenRefused} copy-on-write children refused because their parent was being destroyed");
        Console.Out.WriteLine(latencies.Count == 0
            ? "reclaim latency: no released volume was measured"
            : $"reclaim latency (release → gone from the worker's disk): p50 {DemoLedger.Percentile(latencies, 50):F2}s, " +
              $"p99 {DemoLedger.Percentile(latencies, 99):F2}s, max {latencies.Max():F2}s over {latencies.Count} volumes");
        if (outage.Count > 0)
        {
            Console.Out.WriteLine($"  {outage.Count} volumes released while their worker was down waited for it: max {outage.Max():F2}s");
        }
        foreach (var w in await new Inspector(cluster.Database.DataSource).WorkersAsync(cancellationToken))
        {
            Console.Out.WriteLine($"  {w.Name}: {w.State}, {w.Volumes} volumes, {Bytes(watcher.BytesOn(w.Name))} on disk");
        }

        Console.Out.WriteLine(violations.Count == 0
            ? "check: no volume in use by a running build was deleted"
            : $"CHECK FAILED: {violations.Count} volumes in use were deleted: {string.Join("; ", violations.Take(5))}");
        Console.Out.WriteLine(disagreements.Count == 0
            ? "check: the database and the worker disks agree"
            : $"CHECK FAILED: the database and the worker disks disagree: {string.Join("; ", disagreements.Take(5))}");
        if (!settled)
        {
            Console.Out.WriteLine($"CHECK FAILED: the collector did not settle within {options.SettleTimeout.TotalSeconds:F0}s");
        }

        var passed = violations.Count == 0 && disagreements.Count == 0 && settled;
        Console.Out.WriteLine(passed ? $"demo passed in {ledger.Clock.Elapsed.TotalSeconds:F0}s" : "demo FAILED");
        if (keep)
        {
            Console.Out.WriteLine($"kept {cluster.Directory}");
        }

        return passed ? ExitCodes.Success : ExitCodes.CheckFailed;
    }

    /// <summary>The operator's interventions and the failures, at their times in the build phase.</summary>
    private static async Task EventsAsync(
        DemoCluster cluster, DemoScheduler scheduler, DemoOptions options, DemoLedger ledger, TimeSpan phaseStart, Action<string> say, CancellationToken cancellationToken)
    {
        // A bad fetch: the operator holds the pipeline's new builds, lets the running ones finish, and clears the cache.
        await WaitUntilAsync(ledger, phaseStart + options.ClearCacheAt, cancellationToken);
        await scheduler.HoldAsync("web", TimeSpan.FromSeconds(5));
        var released = await ReleasedByClearingAsync(cluster, cancellationToken);
        var cleared = await new CacheInvalidation(cluster.Database.DataSource).ClearResourceCacheAsync("web", "repo", cancellationToken: cancellationToken);
        ledger.Released(await StillOrphanedAsync(cluster, released, cancellationToken));
        scheduler.Resume("web");
        say($"operator: clear-resource-cache web/repo → {cleared.Caches} caches cleared, {cleared.Volumes} volumes released" +
            (cleared.Kept.Count == 0 ? string.Empty : $"; kept {string.Join("; ", cleared.Kept.Select(k => $"cache {k.CacheId}: {k.Reason}"))}"));

        var landing = cluster.Agents[^1];
        await WaitUntilAsync(ledger, phaseStart + options.LandAt, cancellationToken);
        await cluster.Store.Workers.LandAsync(landing.Name, cancellationToken);
        say($"operator: land-worker {landing.Name} → no new builds there; landed once its containers are gone");

        var victim = cluster.Agents[1];
        await WaitUntilAsync(ledger, phaseStart + options.KillAt, cancellationToken);
        ledger.WorkerDown(victim.Name);
        await victim.KillAsync();
        say($"failure: {victim.Name}'s agent killed (SIGKILL); its volumes wait, the other workers are reclaimed as usual");

        await WaitUntilAsync(ledger, phaseStart + options.RestartAt, cancellationToken);
        victim.Start();
        await victim.WaitReadyAsync(cancellationToken);
        ledger.WorkerUp(victim.Name);
        say($"recovery: {victim.Name}'s agent is back; it registers again and its pending deletions resume");
    }

    /// <summary>Volumes of web/repo's caches that nothing else holds: clearing the caches releases them at once.</summary>
    private static async Task<IReadOnlyList<string>> ReleasedByClearingAsync(DemoCluster cluster, CancellationToken cancellationToken)
    {
        await using var connection = await cluster.Database.DataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<string>(
            """
            SELECT v.handle FROM volumes v
            JOIN resource_caches c ON c.id = v.resource_cache_id
            JOIN resources r ON r.resource_config_id = c.resource_config_id
            JOIN pipelines p ON p.id = r.pipeline_id
            WHERE p.name = 'web' AND r.name = 'repo' AND v.container_id IS NULL AND v.task_cache_id IS NULL
              AND NOT EXISTS (SELECT 1 FROM volumes child WHERE child.parent_id = v.id)
            """)).AsList();
    }

    private static async Task<IReadOnlyList<string>> StillOrphanedAsync(DemoCluster cluster, IReadOnlyList<string> handles, CancellationToken cancellationToken)
    {
        await using var connection = await cluster.Database.DataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<string>(
            "SELECT handle FROM volumes WHERE handle = ANY(@handles) AND resource_cache_id IS NULL AND container_id IS NULL",
            new { handles = handles.ToArray() })).AsList();
    }

    private static async Task ProgressAsync(
        DemoCluster cluster, DiskWatcher watcher, DemoLedger ledger, DemoOptions options, Action<string> say, CancellationToken cancellationToken)
    {
        var inspector = new Inspector(cluster.Database.DataSource);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.ProgressEvery, cancellationToken);
                var workers = await inspector.WorkersAsync(cancellationToken);
                var latencies = ledger.Latencies;
                var perWorker = string.Join(" | ", workers.Select(w =>
                    $"{w.Name} {w.State}: {w.Initialized} ready {w.Destroying} destroying, {Bytes(watcher.BytesOn(w.Name))}"));
                var latency = latencies.Count == 0
                    ? string.Empty
                    : $" | latency p50 {DemoLedger.Percentile(latencies, 50):F2}s p99 {DemoLedger.Percentile(latencies, 99):F2}s";
                say($"{perWorker} | reclaimed {ledger.ReclaimedVolumes} volumes {Bytes(ledger.ReclaimedBytes)}{latency} | builds {ledger.Builds}");
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Npgsql.NpgsqlException)
            {
                // a progress line skipped; the next one will do
            }
        }
    }

    /// <summary>Waits until no volume is being set up or destroyed on a collectable worker and the disks match the database.</summary>
    private static async Task<bool> SettleAsync(DemoCluster cluster, DiskWatcher watcher, DemoOptions options, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + options.SettleTimeout;
        var calm = 0;
        while (DateTime.UtcNow < deadline)
        {
            await using (var connection = await cluster.Database.DataSource.OpenConnectionAsync(cancellationToken))
            {
                var busy = await connection.ExecuteScalarAsync<long>(SettleQuery);
                watcher.Scan();
                calm = busy == 0 && (await DisagreementsAsync(cluster, watcher, cancellationToken)).Count == 0 ? calm + 1 : 0;
            }

            if (calm >= 2)
            {
                return true;
            }

            await Task.Delay(500, cancellationToken);
        }

        return false;
    }

    /// <summary>Volumes the collector would still act on: being set up or destroyed, or orphans on a collectable worker (the lifecycle's destroy condition).</summary>
    private static readonly string SettleQuery =
        $"""
        SELECT count(*) FROM volumes v JOIN workers w ON w.name = v.worker_name
        WHERE v.state IN ('creating', 'initializing', 'destroying')
           OR ({WorkerStates.CollectableSql("w")} AND {VolumeTransitions.For(VolumeTrigger.Destroy).PredicateSql("v")})
        """;

    /// <summary>Handles on a disk without a row, and rows of created or initialized volumes without a directory.</summary>
    private static async Task<IReadOnlyList<string>> DisagreementsAsync(DemoCluster cluster, DiskWatcher watcher, CancellationToken cancellationToken)
    {
        await using var connection = await cluster.Database.DataSource.OpenConnectionAsync(cancellationToken);
        var rows = (await connection.QueryAsync<(string Worker, string Handle, string State)>(
            "SELECT worker_name, handle, state::text FROM volumes")).AsList();
        var problems = new List<string>();
        foreach (var (worker, onDisk) in watcher.OnDisk)
        {
            var known = rows.Where(r => r.Worker == worker).ToDictionary(r => r.Handle, r => r.State, StringComparer.Ordinal);
            problems.AddRange(onDisk.Where(h => !known.ContainsKey(h)).Select(h => $"{worker} holds {h}, which the database does not know"));
            problems.AddRange(known.Where(k => k.Value is "created" or "initialized" && !onDisk.Contains(k.Key))
                .Select(k => $"{worker} lacks {k.Key}, which the database has as {k.Value}"));
        }

        return problems;
    }

    private static async Task WaitUntilAsync(DemoLedger ledger, TimeSpan moment, CancellationToken cancellationToken)
    {
        var wait = moment - ledger.Clock.Elapsed;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, cancellationToken);
        }
    }

    private static string Bytes(long bytes) => bytes switch
    {
        >= 1 << 30 => (bytes / (double)(1 << 30)).ToString("F1", CultureInfo.InvariantCulture) + " GiB",
        >= 1 << 20 => (bytes / (double)(1 << 20)).ToString("F1", CultureInfo.InvariantCulture) + " MiB",
        >= 1 << 10 => (bytes / (double)(1 << 10)).ToString("F0", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " B",
    };
}
