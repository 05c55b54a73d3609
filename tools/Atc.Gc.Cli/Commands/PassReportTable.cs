using System.Globalization;
using Atc.Gc.Collection;

namespace Atc.Gc.Cli.Commands;

/// <summary>A pass report as a table that fits the terminal: one row per collector, its details indented below it.</summary>
public static class PassReportTable
{
    private static readonly HashSet<int> Numbers = [1, 2, 3];

    public static void Write(PassReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var rows = new List<IReadOnlyList<string>>();
        foreach (var c in report.Collectors)
        {
            rows.Add([c.Collector, Number(c.Examined), Number(c.Changed), Number((long)c.Duration.TotalMilliseconds), c.Failed ? "FAILED: " + c.Error : string.Empty]);
            rows.AddRange(c.Details.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => (IReadOnlyList<string>)["  " + d.Key, Number(d.Value), string.Empty, string.Empty, string.Empty]));
        }

        TerminalTable.Write(["collector", "examined", "changed", "ms", "error"], rows, Numbers);
        Console.Out.WriteLine($"pass{(report.DryRun ? " (dry run: nothing was changed)" : string.Empty)}: {report.Changed} rows changed in {report.Duration.TotalMilliseconds:F0} ms");
    }

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
