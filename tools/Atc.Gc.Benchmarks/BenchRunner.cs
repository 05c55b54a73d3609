using Atc.Gc.Benchmarks.Scenarios;

namespace Atc.Gc.Benchmarks;

public static class BenchRunner
{
    public static async Task<int> RunAsync(BenchOptions options, string? database, string? report, string? plot, string[] args, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var started = DateTimeOffset.UtcNow;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        void Say(string line) => Console.Out.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F1}s] {line}");

        await using var server = await BenchDatabase.StartAsync(database, cancellationToken);
        Say($"server: {server.Describe}");
        await using var context = new BenchContext(server, options, Say);
        foreach (var (name, scenario) in new (string, Func<BenchContext, CancellationToken, Task>)[]
                 {
                     ("mark", MarkScenario.RunAsync),
                     ("scaling", ScalingScenario.RunAsync),
                     ("hotpath", HotPathScenario.RunAsync),
                     ("reclaim", ReclaimScenario.RunAsync),
                     ("memory", MemoryScenario.RunAsync),
                     ("cow", CowScenario.RunAsync),
                     ("reports", ReportCostScenario.RunAsync),
                     ("reportmemory", ReportMemoryScenario.RunAsync),
                     ("coordination", CoordinationScenario.RunAsync),
                     ("disk", DiskPressureScenario.RunAsync),
                 })
        {
            if (options.Runs(name))
            {
                Say($"scenario {name}");
                var before = context.Rows.Count;
                await scenario(context, cancellationToken);

                // Each scenario's rows as soon as it ends, so a later failure loses none of them.
                Console.Out.WriteLine(Report.Table(context.Rows.Skip(before).ToList()));
            }
        }

        var table = Report.Table(context.Rows);
        Console.Out.WriteLine();
        Console.Out.WriteLine(table);
        if (report is not null)
        {
            await File.WriteAllTextAsync(report, Report.Markdown(context.Rows, options, server.Describe, started, clock.Elapsed, args, plot), cancellationToken);
            Say($"wrote {report}");
        }

        if (plot is not null)
        {
            Report.Plot(context.Rows, plot);
            Say($"wrote {plot}");
        }

        return 0;
    }
}
