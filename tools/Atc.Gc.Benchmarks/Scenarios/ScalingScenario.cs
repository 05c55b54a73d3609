namespace Atc.Gc.Benchmarks.Scenarios;

/// <summary>
/// The same number of orphans marked among a small and a large table: the cost should follow the
/// orphans, not the table. The sizes are measured in alternating runs.
/// </summary>
public static class ScalingScenario
{
    public static async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = context.Options;
        var sizes = new List<(int Total, Atc.Gc.Database.AtcGcDatabase Database, Microsoft.Extensions.DependencyInjection.ServiceProvider Collector, List<TimeSpan> Runs)>();
        try
        {
            foreach (var total in options.ScalingSizes)
            {
                var (database, _) = await context.DatasetAsync(total, options.ScalingOrphans, cancellationToken);
                sizes.Add((total, database, BenchContext.Collector(database.DataSource), []));
            }

            long marked = 0;
            for (var repeat = 0; repeat < options.Repeats; repeat++)
            {
                foreach (var (_, database, collector, runs) in sizes)
                {
                    await OrphanReset.ResetAsync(database.DataSource, cancellationToken);
                    var (time, changed) = await BenchContext.TimeOursAsync(collector, cancellationToken);
                    runs.Add(time);
                    marked = changed;
                }

                context.Say($"  scaling, run {repeat + 1}: {string.Join(", ", sizes.Select(s => $"among {s.Total:N0} {s.Runs[^1].TotalSeconds:F3}s"))}");
            }

            var (smallTotal, _, _, smallRuns) = sizes[0];
            foreach (var (total, database, _, runs) in sizes)
            {
                await OrphanReset.ResetAsync(database.DataSource, cancellationToken);
                var variant = $"{options.ScalingOrphans:N0} orphans among {total:N0} volumes";
                var note = $"median of {options.Repeats}, sizes alternating";
                if (total == smallTotal)
                {
                    context.Rows.Add(new BenchRow("scaling", variant, marked, Stats.Median(runs), Note: note));
                    continue;
                }

                var ratio = Stats.MedianRatio(runs, smallRuns);
                context.Rows.Add(new BenchRow("scaling", variant, marked, Stats.Median(runs),
                    Ratio: $"{ratio:F2}× the {smallTotal:N0}-volume table", Target: "≤ 1.3×", Met: ratio <= 1.3, Note: $"{note}, ratio of adjacent runs"));
            }
        }
        finally
        {
            foreach (var size in sizes)
            {
                await size.Collector.DisposeAsync();
            }
        }
    }
}
