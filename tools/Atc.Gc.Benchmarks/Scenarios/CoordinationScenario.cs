using Atc.Gc.Collection;
using Atc.Gc.Workers;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Atc.Gc.Benchmarks.Scenarios;

/// <summary>
/// What collection costs the database when several orchestrators share it: the server's CPU time per
/// minute under a steady churn of released containers, with collection paused (the churn alone), with
/// one orchestrator and with three — alternating, each configuration in every round. Collection's cost
/// is a configuration's CPU less the paused one's in the same round.
/// </summary>
public static class CoordinationScenario
{
    private const int Rounds = 2;
    private const int VolumesPerContainer = 5;
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(100);

    public static async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = context.Options;
        var (database, shape) = await context.DatasetAsync(options.Scale, options.Orphans, cancellationToken);
        var dataSource = database.DataSource;
        if (await ServerCpu.FindAsync(dataSource, cancellationToken) is not { } server)
        {
            context.Say("  skipped: the database server does not run on this machine, so its CPU time cannot be read");
            return;
        }

        // The dataset's orphans are marked first: what is measured is the steady state.
        await using (var collector = BenchContext.Collector(dataSource))
        {
            await collector.GetRequiredService<GarbageCollector>().RunPassAsync(PassRequest.Complete, cancellationToken);
        }

        var measure = TimeSpan.FromSeconds(options.CoordinationSeconds);
        var warmUp = TimeSpan.FromSeconds(Math.Max(1, options.CoordinationSeconds / 6.0));
        var cpu = new Dictionary<int, List<double>> { [0] = [], [1] = [], [3] = [] };
        var passes = new Dictionary<int, List<long>> { [1] = [], [3] = [] };
        await using var churn = new Churn(dataSource, shape.Workers, cancellationToken);
        for (var round = 0; round < Rounds; round++)
        {
            foreach (var nodes in round % 2 == 0 ? new[] { 0, 1, 3 } : [3, 1, 0])
            {
                var (seconds, ran) = await MeasureAsync(dataSource, server, nodes, warmUp, measure, cancellationToken);
                cpu[nodes].Add(seconds / measure.TotalMinutes);
                if (nodes > 0)
                {
                    passes[nodes].Add(ran);
                }

                context.Say($"  round {round + 1}, {nodes} orchestrator(s): server CPU {seconds:F2} s in {measure.TotalSeconds:F0} s, {ran} collector runs, churn {churn.Released:N0} containers so far");
            }
        }

        var one = Enumerable.Range(0, Rounds).Select(r => cpu[1][r] - cpu[0][r]).ToList();
        var three = Enumerable.Range(0, Rounds).Select(r => cpu[3][r] - cpu[0][r]).ToList();
        var ratios = Enumerable.Range(0, Rounds).Select(r => three[r] / Math.Max(one[r], 0.01)).ToList();
        var ratio = Stats.Median(ratios);
        var churnNote = $"churn: a container of {VolumesPerContainer} volumes released every {Tick.TotalMilliseconds:F0} ms; {options.Scale:N0} volumes; " +
                        $"database CPU with collection paused {Stats.Median(cpu[0]):F2} s/min (subtracted); median of {Rounds} rounds, configurations alternating";
        context.Rows.Add(new BenchRow("coordination", "collection's database CPU, one orchestrator", (long)Stats.Median([.. passes[1].Select(p => (double)p)]), measure,
            Note: $"{Stats.Median(one):F2} CPU-s per minute; items are collector runs; {churnNote}"));
        context.Rows.Add(new BenchRow("coordination", "collection's database CPU, three orchestrators", (long)Stats.Median([.. passes[3].Select(p => (double)p)]), measure,
            Ratio: $"{ratio:F2}× one", Target: "≤ 1.2× one", Met: ratio <= 1.2,
            Note: $"{Stats.Median(three):F2} CPU-s per minute; items are collector runs across the three; ratio of the same round's figures"));
    }

    /// <summary>The server's CPU seconds over <paramref name="measure"/> with <paramref name="nodes"/> orchestrators collecting (none: paused), and the collector runs they made.</summary>
    private static async Task<(double Seconds, long Runs)> MeasureAsync(
        NpgsqlDataSource dataSource, ServerCpu server, int nodes, TimeSpan warmUp, TimeSpan measure, CancellationToken cancellationToken)
    {
        var orchestrators = new List<(NpgsqlDataSource DataSource, BenchOrchestrator Host)>();
        try
        {
            for (var i = 0; i < nodes; i++)
            {
                var own = NpgsqlDataSource.Create(dataSource.ConnectionString);
                orchestrators.Add((own, await BenchOrchestrator.StartAsync(own, WorkerTokens.NewSecret())));
            }

            await Task.Delay(warmUp, cancellationToken);
            var runsBefore = await RunsAsync(dataSource, cancellationToken);
            var before = server.Seconds();
            await Task.Delay(measure, cancellationToken);
            var seconds = server.Seconds() - before;
            return (seconds, await RunsAsync(dataSource, cancellationToken) - runsBefore);
        }
        finally
        {
            foreach (var (own, host) in orchestrators)
            {
                await host.DisposeAsync();
                await own.DisposeAsync();
            }
        }
    }

    private static async Task<long> RunsAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT coalesce(sum(runs), 0)::bigint FROM collector_runs");
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Creates a container with volumes and releases the oldest every tick, until disposed.</summary>
    private sealed class Churn : IAsyncDisposable
    {
        private readonly CancellationTokenSource stop;
        private readonly Task running;
        private long released;

        public Churn(NpgsqlDataSource dataSource, int workers, CancellationToken cancellationToken)
        {
            stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            running = RunAsync(dataSource, workers, stop.Token);
        }

        public long Released => Interlocked.Read(ref released);

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            await running.ContinueWith(_ => { }, TaskScheduler.Default);
            stop.Dispose();
        }

        private async Task RunAsync(NpgsqlDataSource dataSource, int workers, CancellationToken cancellationToken)
        {
            var live = new Queue<long>();
            using var timer = new PeriodicTimer(Tick);
            for (var n = 0L; await timer.WaitForNextTickAsync(cancellationToken); n++)
            {
                await using var command = dataSource.CreateCommand(
                    """
                    WITH made AS (
                        INSERT INTO containers (handle, worker_name, state, build_id) VALUES ($1, $2, 'created', 1) RETURNING id
                    ), volumes AS (
                        INSERT INTO volumes (handle, worker_name, state, container_id)
                        SELECT $1 || '-' || g, $2, 'created', made.id FROM made, generate_series(1, $3) g
                    )
                    SELECT id FROM made
                    """);
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = $"churn-{Guid.NewGuid():N}" });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = $"w{(n % workers) + 1}" });
                command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = VolumesPerContainer });
                live.Enqueue((long)(await command.ExecuteScalarAsync(cancellationToken))!);
                if (live.Count > 50)
                {
                    await using var release = dataSource.CreateCommand("DELETE FROM containers WHERE id = $1");
                    release.Parameters.Add(new NpgsqlParameter<long> { TypedValue = live.Dequeue() });
                    await release.ExecuteNonQueryAsync(cancellationToken);
                    Interlocked.Increment(ref released);
                }
            }
        }
    }
}
