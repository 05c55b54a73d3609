using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;

namespace Atc.Gc.Benchmarks.Scenarios;

/// <summary>
/// Marking every orphan destroying, on the same data, four ways: the collector (chunked, claimed with
/// SKIP LOCKED); the floor (one set-based UPDATE … RETURNING with the same predicate, no chunking); a
/// row-by-row baseline on this schema (one SELECT of the orphans, then one compare-and-set UPDATE round
/// trip per volume — the strategy Concourse's collector uses); and, when its scripts are given, the
/// Concourse-shaped reference schema with that strategy, on the same server and counts.
/// </summary>
public static partial class MarkScenario
{
    public static async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = context.Options;
        var (database, shape) = await context.DatasetAsync(options.Scale, options.Orphans, cancellationToken);
        var dataSource = database.DataSource;
        await using var collector = BenchContext.Collector(dataSource);

        var floorTimes = new List<TimeSpan>();
        var ourTimes = new List<TimeSpan>();
        long marked = 0;
        for (var repeat = 0; repeat < options.Repeats; repeat++)
        {
            await OrphanReset.ResetAsync(dataSource, cancellationToken);
            var (floorTime, floorCount) = await FloorAsync(dataSource, cancellationToken);
            floorTimes.Add(floorTime);
            await OrphanReset.ResetAsync(dataSource, cancellationToken);
            var (ourTime, ourCount) = await BenchContext.TimeOursAsync(collector, cancellationToken);
            ourTimes.Add(ourTime);
            Check(floorCount, shape.Orphans, "the floor");
            Check(ourCount, shape.Orphans, "the collector");
            marked = ourCount;
            context.Say($"  mark, run {repeat + 1}: collector {ourTime.TotalSeconds:F2}s, floor {floorTime.TotalSeconds:F2}s");
        }

        await OrphanReset.ResetAsync(dataSource, cancellationToken);
        var (rowTime, rowCount) = await RowByRowAsync(dataSource, cancellationToken);
        Check(rowCount, shape.Orphans, "the row-by-row baseline");
        context.Say($"  mark: row-by-row baseline {rowTime.TotalSeconds:F2}s");
        await OrphanReset.ResetAsync(dataSource, cancellationToken);

        var ours = Stats.Median(ourTimes);
        var floor = Stats.Median(floorTimes);
        var ratio = Stats.MedianRatio(ourTimes, floorTimes);
        var items = $"{options.Scale:N0} volumes, {options.Orphans:N0} orphans";
        context.Rows.Add(new BenchRow("mark", "Atc.Gc collector (chunked, SKIP LOCKED)", marked, ours,
            Ratio: $"{ratio:F2}× the floor", Target: "≤ 1.2× the floor", Met: ratio <= 1.2, Note: $"{items}; median of {options.Repeats}, ratio of adjacent runs"));
        context.Rows.Add(new BenchRow("mark", "floor: one set-based UPDATE … RETURNING", marked, floor, Note: $"median of {options.Repeats}"));
        context.Rows.Add(new BenchRow("mark", "row-by-row baseline on this schema", rowCount, rowTime, Ratio: $"{rowTime / ours:F1}× the collector"));

        if (options.PeerBench is { } peerDirectory)
        {
            var peer = await ConcourseReferenceAsync(context, peerDirectory, cancellationToken);
            if (peer is { } reference)
            {
                var speedup = reference.RowByRow / ours;
                context.Rows.Add(new BenchRow("mark", "Concourse-shaped schema, row-by-row (reference)", reference.Orphans, reference.RowByRow,
                    Ratio: $"{speedup:F1}× the collector", Target: "collector ≥ 5× faster", Met: speedup >= 5, Note: "same server and counts"));
                context.Rows.Add(new BenchRow("mark", "Concourse-shaped schema, set-based (reference)", reference.Orphans, reference.Floor));
            }
        }
    }

    /// <summary>One statement, no chunks: the least work the database can do for this marking.</summary>
    public static async Task<(TimeSpan Time, long Count)> FloorAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"""
            WITH o AS (SELECT v.id FROM volumes v WHERE {OrphanReset.Predicate})
            UPDATE volumes SET state = 'destroying', state_changed_at = now()
            WHERE id IN (SELECT id FROM o)
            RETURNING id
            """);
        command.CommandTimeout = 0;
        var clock = Stopwatch.StartNew();
        long count = 0;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                count++;
            }
        }

        return (clock.Elapsed, count);
    }

    /// <summary>One SELECT of the orphans, then one compare-and-set UPDATE per volume, each its own round trip.</summary>
    private static async Task<(TimeSpan Time, long Count)> RowByRowAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var orphans = new List<(long Id, string State)>();
        await using (var select = new NpgsqlCommand($"SELECT v.id, v.state::text FROM volumes v WHERE {OrphanReset.Predicate}", connection))
        {
            select.CommandTimeout = 0;
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                orphans.Add((reader.GetInt64(0), reader.GetString(1)));
            }
        }

        long marked = 0;
        await using var update = new NpgsqlCommand(
            "UPDATE volumes SET state = 'destroying', state_changed_at = now() WHERE id = @id AND state = @from::volume_state", connection);
        var id = new NpgsqlParameter<long> { ParameterName = "id" };
        var from = new NpgsqlParameter<string> { ParameterName = "from" };
        update.Parameters.Add(id);
        update.Parameters.Add(from);
        foreach (var orphan in orphans)
        {
            id.TypedValue = orphan.Id;
            from.TypedValue = orphan.State;
            marked += await update.ExecuteNonQueryAsync(cancellationToken);
        }

        return (clock.Elapsed, marked);
    }

    private sealed record Reference(long Orphans, TimeSpan RowByRow, TimeSpan Floor);

    /// <summary>Runs the reference scripts (their own schema and data, in the server's postgres database) with the same counts.</summary>
    private static async Task<Reference?> ConcourseReferenceAsync(BenchContext context, string directory, CancellationToken cancellationToken)
    {
        var script = Path.Combine(directory, "run.sh");
        if (!File.Exists(script))
        {
            context.Say($"  no reference scripts at {directory}: skipped");
            return null;
        }

        var options = context.Options;
        context.Say("  running the Concourse-shaped reference on the same server");
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in (string[])[script, options.Scale.ToString(CultureInfo.InvariantCulture), options.Orphans.ToString(CultureInfo.InvariantCulture), options.Workers.ToString(CultureInfo.InvariantCulture)])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["PORT"] = context.Server.Port.ToString(CultureInfo.InvariantCulture);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not run the reference script");
        var output = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = await process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        var found = FoundLine().Match(output);
        var rowByRow = RowByRowLine().Match(output);
        var floor = FloorLine().Match(output);
        if (process.ExitCode != 0 || !found.Success || !rowByRow.Success || !floor.Success)
        {
            context.Say($"  the reference did not run: {(output + errors).Trim()}");
            return null;
        }

        context.Say($"  reference: {rowByRow.Value}; {floor.Value}");
        return new Reference(
            long.Parse(found.Groups[1].Value, CultureInfo.InvariantCulture),
            TimeSpan.FromSeconds(double.Parse(rowByRow.Groups[1].Value, CultureInfo.InvariantCulture)),
            TimeSpan.FromSeconds(double.Parse(floor.Groups[1].Value, CultureInfo.InvariantCulture)));
    }

    private static void Check(long actual, long expected, string who)
    {
        if (actual != expected)
        {
            throw new InvalidOperationException($"{who} marked {actual} volumes; the dataset has {expected} orphans");
        }
    }

    [GeneratedRegex(@"orphans_found=(\d+)")]
    private static partial Regex FoundLine();

    [GeneratedRegex(@"= ([\d.]+)s \(\d+ volumes/s\)")]
    private static partial Regex RowByRowLine();

    [GeneratedRegex(@"floor \(one set-based UPDATE\): ([\d.]+)s")]
    private static partial Regex FloorLine();
}
