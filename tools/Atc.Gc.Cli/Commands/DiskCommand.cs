using System.CommandLine;
using System.Globalization;
using Atc.Gc.Collection;
using Atc.Gc.Collection.DiskPressure;
using Atc.Gc.Model;
using Microsoft.Extensions.Configuration;

namespace Atc.Gc.Cli.Commands;

/// <summary>
/// <c>atc-gc disk [--worker W] [--json]</c>: each worker's disk as disk-pressure eviction sees it —
/// capacity, projected usage, kept caches nobody uses, what is in use — and what the next pass would
/// evict, least recently used first. A dry run: it locks and changes nothing.
/// </summary>
public static class DiskCommand
{
    public static Command Create(CliContext context)
    {
        var worker = new Option<string?>("--worker") { Description = "Only this worker" };
        var json = ListCommands.Json();
        var command = new Command("disk", "Workers' disks under the disk-pressure policy, and what the next pass would evict (dry run)") { worker, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = Options(context.Settings(parse));
            var name = parse.GetValue(worker);
            if (name is not null)
            {
                WorkerNames.Validate(name, "worker");
            }

            await using var session = await context.InspectAsync(parse, cancellationToken);
            var workers = await new DiskPressureInspector(session.Database.DataSource).InspectAsync(options, name, cancellationToken);
            if (name is not null && workers.Count == 0)
            {
                throw new UsageException($"no worker named '{name}' reports its disk (or it is not running, landing or retiring)");
            }

            if (parse.GetValue(json))
            {
                Output.Json(new { enabled = options.Enabled, workers });
                return ExitCodes.Success;
            }

            Print(options, workers);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The <c>Collector:DiskPressure</c> policy from configuration, validated as a host validates it.</summary>
    private static DiskPressureOptions Options(IConfiguration configuration)
    {
        var options = configuration.GetSection($"{CollectorOptions.Section}:{DiskPressureOptions.Section}").Get<DiskPressureOptions>() ?? new DiskPressureOptions();
        var problems = options.Validate(CollectorOptions.Section).Select(p => p.ErrorMessage).ToList();
        return problems.Count == 0 ? options : throw new UsageException(string.Join("; ", problems));
    }

    private static void Print(DiskPressureOptions options, IReadOnlyList<WorkerDiskPressure> workers)
    {
        Output.Table(
            ["WORKER", "CAPACITY", "USED", "EVICTABLE", "IN USE", "RELEASING", "HIGH/LOW", "NEXT PASS EVICTS"],
            workers.Select(w => (IReadOnlyList<string?>)[
                w.Worker,
                ListCommands.Bytes(w.CapacityBytes),
                $"{ListCommands.Bytes(w.UsedBytes)} ({w.UsedPercent.ToString("0.#", CultureInfo.InvariantCulture)} %)",
                ListCommands.Bytes(w.EvictableBytes),
                ListCommands.Bytes(w.InUseBytes),
                ListCommands.Bytes(w.ReleasingBytes),
                $"{w.Policy.HighWatermarkPercent}/{w.Policy.LowWatermarkPercent} %",
                w.Reason is null ? "nothing" : $"{w.WouldEvict.Count} volumes, {ListCommands.Bytes(w.WouldEvict.Sum(e => e.SizeBytes))} ({w.Reason})"]));
        if (!options.Enabled)
        {
            Console.Out.WriteLine("disk-pressure eviction is disabled (Collector:DiskPressure:Enabled=false)");
        }

        foreach (var eviction in workers.SelectMany(w => w.WouldEvict))
        {
            Console.Out.WriteLine(
                $"would evict {eviction.Handle} on {eviction.WorkerName}: {eviction.Cache}, {ListCommands.Bytes(eviction.SizeBytes)}, last used {Output.Ago(eviction.LastUsedAt)} ({eviction.Reason})");
        }
    }
}
