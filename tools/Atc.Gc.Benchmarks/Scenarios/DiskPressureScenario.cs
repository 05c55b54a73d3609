using Atc.Gc.Collection;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Atc.Gc.Benchmarks.Scenarios;

/// <summary>
/// The disk-pressure decision on the main dataset: every volume measured (1 to 1.4 MiB), one worker in
/// five (ten of fifty) reporting 95 % used and the others 50 % — less the orphans (a tenth), which are
/// on their way out, about 85 % and 45 % projected — watermarks 80 / 75 %, and the <c>disk-pressure</c> collector's
/// whole run — pick and lock, lock the caches, decide again and release — timed as a dry run (rolled
/// back, so every run starts from the same rows), against one orphan-marking pass on the same data.
/// The sizes and disk figures are taken away again at the end, so later scenarios see the dataset as
/// generated.
/// </summary>
public static class DiskPressureScenario
{
    public static async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = context.Options;
        var (database, _) = await context.DatasetAsync(options.Scale, options.Orphans, cancellationToken);
        var dataSource = database.DataSource;
        var pressured = Math.Max(1, options.Workers / 5);
        await using var collector = BenchContext.Collector(dataSource, new Dictionary<string, string?>
        {
            ["Collector:DiskPressure:HighWatermarkPercent"] = "80",
            ["Collector:DiskPressure:LowWatermarkPercent"] = "75",
        });
        await PressAsync(dataSource, pressured, cancellationToken);
        try
        {
            var decisions = new List<TimeSpan>();
            var marks = new List<TimeSpan>();
            long evicted = 0;
            for (var repeat = 0; repeat < options.Repeats; repeat++)
            {
                var (decision, count) = await DecideAsync(collector, cancellationToken);
                decisions.Add(decision);
                evicted = count;
                await OrphanReset.ResetAsync(dataSource, cancellationToken);
                marks.Add((await BenchContext.TimeOursAsync(collector, cancellationToken)).Time);
                await OrphanReset.ResetAsync(dataSource, cancellationToken);
                context.Say($"  disk, run {repeat + 1}: decision {decision.TotalMilliseconds:F0} ms ({count} evictions), orphan marking {marks[^1].TotalMilliseconds:F0} ms");
            }

            var ratio = Stats.MedianRatio(decisions, marks);
            context.Rows.Add(new BenchRow(
                "disk pressure",
                $"eviction decision, {pressured} of {options.Workers} workers over the watermark",
                evicted,
                Stats.Median(decisions),
                Ratio: $"{ratio:F2}× one orphan-marking pass",
                Target: "≤ 1× one orphan-marking pass",
                Met: ratio <= 1,
                Note: $"{options.Scale:N0} volumes; the whole collector (lock, decide, release) as a dry run; median of {options.Repeats}, ratio of adjacent runs"));
            context.Rows.Add(new BenchRow("disk pressure", "one orphan-marking pass, same data", options.Orphans, Stats.Median(marks), Note: $"median of {options.Repeats}"));
        }
        finally
        {
            await UnpressAsync(dataSource, cancellationToken);
        }
    }

    private static async Task<(TimeSpan Time, long Evicted)> DecideAsync(ServiceProvider collector, CancellationToken cancellationToken)
    {
        var report = await collector.GetRequiredService<GarbageCollector>().RunPassAsync(new PassRequest(DryRun: true, Only: ["disk-pressure"]), cancellationToken);
        var run = report.Collectors.Single();
        return run.Failed ? throw new InvalidOperationException($"the disk-pressure collector failed: {run.Error}") : (run.Duration, run.Changed);
    }

    /// <summary>Sizes on every volume; the first <paramref name="pressured"/> workers 95 % used, the others 50 %.</summary>
    private static Task PressAsync(NpgsqlDataSource dataSource, int pressured, CancellationToken cancellationToken) => ExecuteAsync(
        dataSource,
        $"""
        UPDATE volumes SET size_bytes = 1048576 + (id % 7) * 65536;
        UPDATE workers w
        SET disk_capacity_bytes = s.capacity, disk_free_bytes = s.capacity - s.total, disk_volumes_bytes = s.total, disk_reported_at = now()
        FROM (SELECT worker_name, total, CASE WHEN row_number() OVER (ORDER BY worker_name) <= {pressured} THEN total * 100 / 95 ELSE total * 2 END AS capacity
              FROM (SELECT worker_name, sum(size_bytes) AS total FROM volumes GROUP BY worker_name) t) s
        WHERE w.name = s.worker_name;
        """,
        cancellationToken);

    private static Task UnpressAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) => ExecuteAsync(
        dataSource,
        """
        UPDATE volumes SET size_bytes = NULL;
        UPDATE workers SET disk_capacity_bytes = NULL, disk_free_bytes = NULL, disk_volumes_bytes = NULL, disk_reported_at = NULL;
        """,
        cancellationToken);

    /// <summary>Runs <paramref name="sql"/>, then vacuums the volumes (outside its transaction) so every run starts from the same pages.</summary>
    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql, CancellationToken cancellationToken)
    {
        foreach (var statement in new[] { sql, "VACUUM ANALYZE volumes" })
        {
            await using var command = dataSource.CreateCommand(statement);
            command.CommandTimeout = 0;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
