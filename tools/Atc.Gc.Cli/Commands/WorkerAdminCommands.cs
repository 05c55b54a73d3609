using System.CommandLine;
using Atc.Gc.Model;
using Atc.Gc.Scheduling;

namespace Atc.Gc.Cli.Commands;

/// <summary><c>land-worker</c>, <c>retire-worker</c>, <c>prune-worker</c>: an operator moving a worker out; <c>adopt-worker</c>: lifting a hold.</summary>
public static class WorkerAdminCommands
{
    public static Command Land(CliContext context) => StateChange(
        context, "land-worker", "Start landing a worker (going away for a while): landed once its containers are gone",
        (workers, name, ct) => workers.LandAsync(name, ct), "landing");

    public static Command Retire(CliContext context) => StateChange(
        context, "retire-worker", "Start retiring a worker (going away for good): deleted with its volumes once its containers are gone",
        (workers, name, ct) => workers.RetireAsync(name, ct), "retiring");

    /// <summary>
    /// <c>adopt-worker NAME</c>: the operator confirms that a held worker's unknown volumes are garbage
    /// (and that its agent may take this database's identity); its next report destroys them.
    /// </summary>
    public static Command Adopt(CliContext context)
    {
        var name = new Argument<string>("name") { Description = "The worker's name" };
        var command = new Command(
            "adopt-worker",
            "Lift a worker's hold: its agent takes this database's identity and its next report destroys the volumes unknown here")
        {
            name,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var worker = WorkerNames.Validate(parse.GetValue(name), "name");
            using var loggerFactory = context.CreateLoggerFactory(parse);
            await using var database = await context.OpenExistingDatabaseAsync(parse, loggerFactory, cancellationToken);
            var workers = new WorkerRepository(database.DataSource);
            var before = await workers.FindAsync(worker, cancellationToken) ?? throw new UsageException($"no worker named '{worker}'");
            await workers.AdoptAsync(worker, cancellationToken);
            Console.Out.WriteLine(before.Hold is null
                ? $"worker '{worker}' was not held; its next report may destroy what this database does not know, however many"
                : $"worker '{worker}' adopted (it was held: {before.Hold.Kind}: {before.Hold.Detail}); its next report destroys the {before.Hold.UnknownVolumes} volume(s) unknown here");
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Prune(CliContext context)
    {
        var name = new Argument<string>("name") { Description = "The worker's name" };
        var force = new Option<bool>("--force") { Description = "Prune even a running, landing or retiring worker" };
        var command = new Command("prune-worker", "Delete a stalled or landed worker; the cascade removes its volumes from the database") { name, force };
        var confirmation = Confirmation.For(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var worker = WorkerNames.Validate(parse.GetValue(name), "name");
            confirmation.RequireAnswerable(parse);
            using var loggerFactory = context.CreateLoggerFactory(parse);
            await using var database = await context.OpenExistingDatabaseAsync(parse, loggerFactory, cancellationToken);
            var workers = new WorkerRepository(database.DataSource);
            return await confirmation.RunAsync(
                parse,
                json: false,
                async () =>
                {
                    var preview = Pruned(await workers.PreviewPruneAsync(worker, parse.GetValue(force), cancellationToken));
                    return new Plan([$"would prune worker '{worker}' and {preview.Volumes} volume rows (and revoke its token)"]);
                },
                async () =>
                {
                    var outcome = Pruned(await workers.PruneAsync(worker, parse.GetValue(force), cancellationToken));
                    Console.Out.WriteLine($"pruned worker '{worker}' and {outcome.Volumes} volume rows");
                    return ExitCodes.Success;
                });
        });
        return command;
    }

    /// <summary>The outcome of a prune that happened (or would); a refused one is bad input, exit code 2.</summary>
    private static PruneOutcome Pruned(PruneOutcome outcome) => outcome.Pruned ? outcome : throw new UsageException(outcome.Refusal!);

    private static Command StateChange(
        CliContext context, string commandName, string description, Func<WorkerRepository, string, CancellationToken, Task<bool>> change, string target)
    {
        var name = new Argument<string>("name") { Description = "The worker's name" };
        var command = new Command(commandName, description) { name };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var worker = WorkerNames.Validate(parse.GetValue(name), "name");
            using var loggerFactory = context.CreateLoggerFactory(parse);
            await using var database = await context.OpenExistingDatabaseAsync(parse, loggerFactory, cancellationToken);
            var workers = new WorkerRepository(database.DataSource);
            if (!await change(workers, worker, cancellationToken))
            {
                var current = await workers.FindAsync(worker, cancellationToken);
                throw new UsageException(current is null
                    ? $"no worker named '{worker}'"
                    : $"worker '{worker}' is {current.State.ToDb()} and cannot start {target}");
            }

            Console.Out.WriteLine($"worker '{worker}' is {target}");
            return ExitCodes.Success;
        });
        return command;
    }
}
