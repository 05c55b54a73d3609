using System.CommandLine;
using Atc.Gc.Inspection;
using Atc.Gc.Lifecycle;
using Atc.Gc.Model;
using Atc.Gc.Scheduling;

namespace Atc.Gc.Cli.Commands;

/// <summary>The listings: <c>volumes</c>, <c>containers</c>, <c>workers</c>, <c>caches</c>. Each takes --json.</summary>
public static class ListCommands
{
    public static Command Volumes(CliContext context)
    {
        var worker = new Option<string?>("--worker") { Description = "Only volumes of this worker" };
        var state = new Option<string?>("--state") { Description = $"Only volumes in this state ({string.Join(", ", VolumeStates.Labels.Labels)})" };
        var orphaned = new Option<bool>("--orphaned") { Description = "Only orphans: no owner and no child" };
        var limit = new Option<int>("--limit") { Description = "At most this many, newest first (0: all)", DefaultValueFactory = _ => 100 };
        var json = Json();
        var command = new Command("volumes", "List volumes") { worker, state, orphaned, limit, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            VolumeState? wanted = parse.GetValue(state) is { } label ? VolumeStates.Parse(label) : null;
            await using var session = await context.InspectAsync(parse, cancellationToken);
            var workerName = await RequireWorkerAsync(session, parse.GetValue(worker), cancellationToken);
            var page = await session.Inspector.VolumesAsync(workerName, wanted, parse.GetValue(orphaned), parse.GetValue(limit), cancellationToken);
            if (parse.GetValue(json))
            {
                Output.Json(new { total = page.Total, volumes = page.Rows });
                return ExitCodes.Success;
            }

            Output.Table(
                ["HANDLE", "WORKER", "STATE", "SINCE", "OWNERS", "PARENT", "CHILDREN", "SIZE"],
                page.Rows.Select(v => (IReadOnlyList<string?>)[
                    v.Handle, v.Worker, v.State + (v.MissingSince is null ? string.Empty : " (missing)"), Output.Ago(v.StateChangedAt),
                    Owners(v), v.ParentId?.ToString(System.Globalization.CultureInfo.InvariantCulture), v.Children.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    Bytes(v.SizeBytes)]));
            Console.Out.WriteLine($"{page.Rows.Count} of {page.Total} volumes");
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Containers(CliContext context)
    {
        var worker = new Option<string?>("--worker") { Description = "Only containers of this worker" };
        var json = Json();
        var command = new Command("containers", "List containers") { worker, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var session = await context.InspectAsync(parse, cancellationToken);
            var rows = await session.Inspector.ContainersAsync(await RequireWorkerAsync(session, parse.GetValue(worker), cancellationToken), cancellationToken);
            if (parse.GetValue(json))
            {
                Output.Json(new { containers = rows });
                return ExitCodes.Success;
            }

            Output.Table(
                ["HANDLE", "WORKER", "STATE", "BUILD", "JOB", "VOLUMES"],
                rows.Select(c => (IReadOnlyList<string?>)[
                    c.Handle, c.Worker, c.State,
                    c.BuildId is null ? (c.ResourceConfigId is null ? null : $"check of config {c.ResourceConfigId}") : $"{c.BuildId} ({c.BuildStatus})",
                    c.Job, c.Volumes.ToString(System.Globalization.CultureInfo.InvariantCulture)]));
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Workers(CliContext context)
    {
        var json = Json();
        var command = new Command("workers", "List workers with their containers and volumes by state") { json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var session = await context.InspectAsync(parse, cancellationToken);
            var rows = await session.Inspector.WorkersAsync(cancellationToken);
            if (parse.GetValue(json))
            {
                Output.Json(new { workers = rows });
                return ExitCodes.Success;
            }

            Output.Table(
                ["NAME", "STATE", "HEARTBEAT", "CONTAINERS", "VOLUMES", "BY STATE", "USED", "FREE", "URL"],
                rows.Select(w => (IReadOnlyList<string?>)[
                    w.Name, w.State, Output.Ago(w.HeartbeatAt), N(w.Containers), N(w.Volumes),
                    $"{w.Creating}/{w.Created}/{w.Initializing}/{w.Initialized}/{w.Destroying}/{w.Failed}",
                    Bytes(w.DiskVolumesBytes), w.DiskFreeBytes is null ? null : $"{Bytes(w.DiskFreeBytes)} of {Bytes(w.DiskCapacityBytes)}", w.BaseUrl]));
            Console.Out.WriteLine("BY STATE: creating/created/initializing/initialized/destroying/failed");
            foreach (var held in rows.Where(w => w.Hold is not null))
            {
                Console.Out.WriteLine($"HELD {held.Name}: {held.Hold}; its unknown volumes are kept until 'atc-gc adopt-worker {held.Name}'");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Caches(CliContext context)
    {
        var pipeline = new Option<string?>("--pipeline") { Description = "Only caches of this pipeline's resources" };
        var json = Json();
        var command = new Command("caches", "List resource caches with their uses and volumes") { pipeline, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var session = await context.InspectAsync(parse, cancellationToken);
            var rows = await session.Inspector.CachesAsync(parse.GetValue(pipeline), cancellationToken);
            if (parse.GetValue(json))
            {
                Output.Json(new { caches = rows });
                return ExitCodes.Success;
            }

            Output.Table(
                ["ID", "TYPE", "VERSION", "RESOURCES", "USES", "RUNNING", "VOLUMES"],
                rows.Select(c => (IReadOnlyList<string?>)[N(c.Id), c.Type, c.Version, c.Resources, N(c.Uses), N(c.RunningUses), N(c.Volumes)]));
            return ExitCodes.Success;
        });
        return command;
    }

    internal static Option<bool> Json() => new("--json") { Description = "Print JSON" };

    private static async Task<string?> RequireWorkerAsync(InspectionSession session, string? worker, CancellationToken cancellationToken)
    {
        if (worker is null)
        {
            return null;
        }

        WorkerNames.Validate(worker, "worker");
        return await new WorkerRepository(session.Database.DataSource).FindAsync(worker, cancellationToken) is null
            ? throw new UsageException($"no worker named '{worker}'")
            : worker;
    }

    private static string Owners(VolumeListing v) => string.Join(",", new[]
    {
        v.ContainerId is { } c ? $"container {c}" : null,
        v.ResourceCacheId is { } r ? $"cache {r}" : null,
        v.TaskCacheId is { } t ? $"task cache {t}" : null,
        v.WorkerBaseResourceTypeId is { } b ? $"base type {b}" : null,
    }.OfType<string>()) is { Length: > 0 } owners ? owners : "none";

    private static string N(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Bytes as people read them (1.5 GiB), or "-" when unknown.</summary>
    internal static string Bytes(long? value)
    {
        if (value is not { } bytes)
        {
            return "-";
        }

        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        var size = (double)bytes;
        var unit = 0;
        while (size >= 1024 && unit < units.Length - 1)
        {
            size /= 1024;
            unit++;
        }

        return unit == 0 ? $"{bytes} B" : $"{size:0.#} {units[unit]}";
    }
}
