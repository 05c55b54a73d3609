using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Atc.Gc.Collection;
using Atc.Gc.Database;
using Atc.Gc.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Atc.Gc.Benchmarks.Scenarios;

/// <summary>
/// The collector's peak memory for a full pass over datasets of growing size (10 % orphans each),
/// each pass in a process of its own (<c>atc-gc-bench measure-pass</c>) whose peak resident set is
/// read from /proc. Chunked statements should keep it flat.
/// </summary>
public static class MemoryScenario
{
    public static async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var measured = new List<(int Total, long Peak, long Changed, TimeSpan Time)>();
        foreach (var total in context.Options.MemorySizes)
        {
            var (database, _) = await context.DatasetAsync(total, total / 10, cancellationToken);
            var start = SelfProcess.StartInfo(["measure-pass", "--database", database.ConnectionString]);
            start.RedirectStandardOutput = true;
            using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start measure-pass");
            var output = await process.StandardOutput.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            await OrphanReset.ResetAsync(database.DataSource, cancellationToken);
            var result = JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;
            var peak = result.GetProperty("peakRssBytes").GetInt64();
            measured.Add((total, peak, result.GetProperty("changed").GetInt64(), TimeSpan.FromSeconds(result.GetProperty("seconds").GetDouble())));
            context.Say($"  full pass over {total:N0} volumes: peak resident memory {peak / 1048576.0:F0} MiB");
        }

        var smallest = measured[0].Peak;
        foreach (var (total, peak, changed, time) in measured)
        {
            var growth = peak / (double)smallest;
            context.Rows.Add(new BenchRow("memory", $"full pass, {total:N0} volumes", changed, time, PeakBytes: peak,
                Ratio: $"{growth:F2}× the {measured[0].Total:N0}-volume pass",
                Target: "≤ 200 MiB, flat (≤ 1.25×)", Met: peak <= 200L * 1024 * 1024 && growth <= 1.25, Note: "rows changed; own process"));
        }
    }

    /// <summary>The child side: one full pass (no worker has an address, so nothing is sent), then the peak memory as JSON.</summary>
    public static async Task<int> MeasurePassAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var database = await AtcGcDatabase.OpenAsync(connectionString, cancellationToken: cancellationToken);
        await using var collector = BenchContext.Collector(database.DataSource);
        var clock = Stopwatch.StartNew();
        var report = await collector.GetRequiredService<GarbageCollector>().RunPassAsync(cancellationToken: cancellationToken);
        Console.Out.WriteLine(JsonSerializer.Serialize(new
        {
            peakRssBytes = SelfProcess.PeakResidentBytes(),
            changed = report.Changed,
            seconds = clock.Elapsed.TotalSeconds,
            failed = report.Failed,
        }));
        return report.Failed ? 1 : 0;
    }

    internal static string Mebibytes(long bytes) => (bytes / 1048576.0).ToString("F0", CultureInfo.InvariantCulture) + " MiB";
}
