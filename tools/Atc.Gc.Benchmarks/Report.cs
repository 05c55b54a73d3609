using System.Globalization;
using System.Text;

namespace Atc.Gc.Benchmarks;

/// <summary>The results: a console table, a Markdown page with the machine and the command, a chart.</summary>
public static class Report
{
    private static readonly string[] Headers = ["scenario", "variant", "items", "time", "items/s", "peak memory", "ratio", "target", "met", "notes"];

    public static string Table(IReadOnlyList<BenchRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var cells = rows.Select(Cells).ToList();
        var widths = Headers.Select((h, i) => Math.Max(h.Length, cells.Count == 0 ? 0 : cells.Max(c => c[i].Length))).ToArray();
        var text = new StringBuilder();
        text.AppendLine(string.Join("  ", Headers.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
        foreach (var row in cells)
        {
            text.AppendLine(string.Join("  ", row.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
        }

        return text.ToString();
    }

    public static string Markdown(
        IReadOnlyList<BenchRow> rows, BenchOptions options, string server, DateTimeOffset started, TimeSpan duration, string[] args, string? plot)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(options);
        var text = new StringBuilder();
        text.AppendLine("# Benchmarks");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Measured {started:yyyy-MM-dd HH:mm} UTC in {duration.TotalMinutes:F1} minutes.");
        text.AppendLine();
        text.AppendLine("| | |");
        text.AppendLine("| --- | --- |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| machine | {Machine()} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| database | {server} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| runtime | .NET {Environment.Version} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| command | `dotnet run -c Release --project tools/Atc.Gc.Benchmarks -- {string.Join(' ', args.Skip(1))}` |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| main dataset | {options.Scale:N0} volumes, {options.Orphans:N0} orphans, {options.Workers} workers, seed {options.Seed} |");
        text.AppendLine();
        text.AppendLine("| " + string.Join(" | ", Headers) + " |");
        text.AppendLine("|" + string.Concat(Enumerable.Repeat(" --- |", Headers.Length)));
        foreach (var row in rows)
        {
            text.AppendLine("| " + string.Join(" | ", Cells(row)) + " |");
        }

        if (plot is not null)
        {
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"![benchmark chart]({Path.GetFileName(plot)})");
        }

        text.AppendLine();
        text.Append(Method);
        return text.ToString();
    }

    private const string Method =
        """
        ## What is measured

        Datasets are generated into the real schema with COPY (foreign keys checked as rows go in):
        workers with a base resource type, pipelines and jobs, running builds, resource configs and
        caches each used by a build, containers, task caches, and volumes owned by containers (a fifth
        of those copy-on-write children of a cache volume on the same worker), caches, task caches and
        base resource types, with the orphans — no owner, no child; created, initialized or failed —
        scattered among them. Between runs, marked orphans are put back and the table is vacuumed, so
        every strategy starts from the same rows.

        - **mark**: every orphan marked destroying, on the same data. *Collector*: the
          `orphaned-volumes` collector as a pass runs it (keyset chunks of 5,000, `FOR UPDATE SKIP
          LOCKED`, the predicate compiled from the lifecycle). *Floor*: one `UPDATE … RETURNING` with
          the same predicate and no chunking. *Row-by-row baseline*: one SELECT of the orphans, then one
          compare-and-set `UPDATE … WHERE id = @id AND state = @from` round trip per volume — the
          strategy Concourse's collector uses — written for this schema. *Concourse-shaped schema*: the
          reference scripts (a schema with Concourse's columns, foreign keys and indexes, its orphan
          query and that strategy, and its set-based floor), run by this tool against the same server
          with the same counts.
        - **scaling**: the same number of orphans marked among a small and a large table (the
          collector, as in *mark*).
        - **hot path**: the scheduler creating a volume and a copy-on-write child, one at a time,
          on an idle database and while a full collection pass marks the main dataset's orphans.
        - **reclaim**: the orchestrator as production runs it (worker API and collector service, every
          option at its default) and worker agents, each a process of its own, registered with it
          (heartbeats, full reports, acknowledgements running), over loopback HTTP with real
          directories. *Invalidation → gone*: caches are cleared one at a time, the collector service
          woken by the change signal; each volume's latency runs from the clearing statement until
          nothing of it is left on disk (not in `volumes/`, not in `dead/`). *One agent hung*: the same
          with one agent stopped (SIGSTOP: it accepts connections and never answers), the other
          agents' latency against theirs with every agent well (measured before, in the same run).
          *End to end*: one large invalidation, the same way. *HTTP deletion*: volumes already
          destroying, deleted by destroying-collector passes (claims, `POST /volumes/destroy` batches,
          row deletes) until every row is gone. *Local floor*: each agent's own store, in a process
          of its own, deleting as many volumes with no HTTP and no database — one at a time and as
          many at a time as the collector sends requests per worker, whichever is faster.
        - **memory**: a full pass over datasets of growing size (10 % orphans), each in a process of
          its own, whose peak resident memory (VmHWM) is read from /proc.
        - **cow**: a copy-on-write child of parents of growing size (each in the same number of files),
          made by the agent's store with the overlay driver and with the naive one (a copy),
          alternating: the time to make it, and the bytes it wrote (its own layer on disk after it
          was made). Overlay needs root.
        - **report**: what the orchestrator and the database spend on a report from a worker holding
          few or many volumes, with ten changes: the acknowledgement of ten deletions (over loopback
          HTTP; the database alone in the notes), and the periodic full report beside it.
        - **report memory**: the orchestrator in a process of its own, its resident memory idle (every
          path used once) against its peak (VmHWM, reset through `/proc/<pid>/clear_refs`) under ten
          concurrent reports of the largest size it accepts, from one worker and from ten.

        This machine's speed drifts from run to run (other guests share its cores), so what is
        compared is measured in alternating runs: collector and floor, the two table sizes, HTTP and
        local deletion, the two drivers, the two worker sizes. A time is the median of the runs (a row's notes say how many); a ratio is
        the median of the ratios of adjacent runs, which the drift does not move. A figure is what
        one run of the command on this machine measured. The smoke test in the suite runs every scenario at tiny sizes to keep the tool working;
        the full run is the command above.
        """;

    /// <summary>The mark scenario's times side by side (seconds); every row when there is no mark scenario.</summary>
    public static void Plot(IReadOnlyList<BenchRow> rows, string path)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var mark = rows.Where(r => r.Scenario == "mark").ToList();
        var chosen = mark.Count > 0 ? mark : [.. rows];
        var plot = new ScottPlot.Plot();
        var bars = chosen.Select((r, i) => new ScottPlot.Bar { Position = i, Value = r.Time.TotalSeconds, Label = $"{r.Time.TotalSeconds:F2} s" }).ToList();
        var series = plot.Add.Bars(bars);
        series.ValueLabelStyle.FontSize = 14;
        series.Horizontal = true;
        plot.Axes.Left.SetTicks([.. chosen.Select((_, i) => (double)i)], [.. chosen.Select(r => Wrap(r.Variant))]);
        plot.Axes.Bottom.Label.Text = "seconds (less is better)";
        plot.Axes.Margins(left: 0, right: 0.25);
        plot.Title(mark.Count > 0 ? $"Marking {mark[0].Items:N0} orphans destroying" : "Benchmarks");
        plot.SavePng(path, 1100, 120 + (90 * chosen.Count));
    }

    private static string Wrap(string text) => text.Length <= 34 ? text : text[..text.LastIndexOf(' ', 34)] + "\n" + text[(text.LastIndexOf(' ', 34) + 1)..];

    private static string[] Cells(BenchRow row) =>
    [
        row.Scenario,
        row.Variant,
        row.Items.ToString("N0", CultureInfo.InvariantCulture),
        row.Time.TotalSeconds >= 1 ? $"{row.Time.TotalSeconds:F2} s" : $"{row.Time.TotalMilliseconds:F0} ms",
        row.ItemsPerSecond.ToString("N0", CultureInfo.InvariantCulture),
        row.PeakBytes is { } peak ? $"{peak / 1048576.0:F0} MiB" : string.Empty,
        row.Ratio,
        row.Target,
        row.Met switch { true => "yes", false => "NO", null => string.Empty },
        row.Note,
    ];

    private static string Machine()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        var memory = File.Exists("/proc/meminfo")
            ? File.ReadLines("/proc/meminfo").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]
            : null;
        return $"{Environment.ProcessorCount} cores{(cpu is null ? string.Empty : $" ({cpu})")}" +
               $"{(memory is null ? string.Empty : $", {long.Parse(memory, CultureInfo.InvariantCulture) / 1048576} GiB")}, {Environment.OSVersion}";
    }
}
