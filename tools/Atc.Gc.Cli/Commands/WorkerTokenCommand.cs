using System.CommandLine;
using Atc.Gc.Model;
using Atc.Gc.Workers;

namespace Atc.Gc.Cli.Commands;

/// <summary>
/// <c>atc-gc worker-token &lt;name&gt; [--rotate]</c>: the token to give a worker — derived from the
/// orchestrator's secret at the worker's token generation, which lives in the database — or, with
/// <c>--rotate</c>, a new one, which revokes the current one.
/// </summary>
public static class WorkerTokenCommand
{
    public static Command Create(CliContext context)
    {
        var name = new Argument<string>("name") { Description = "The worker's name" };
        var rotate = new Option<bool>("--rotate")
        {
            Description = "Revoke the worker's current token and print its new one (its agent is refused until it is given the new token)",
        };
        var command = new Command("worker-token", "Print the current token of a worker (derived from the worker token secret and the worker's token generation)")
        {
            name, rotate,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var worker = WorkerNames.Validate(parse.GetValue(name), "name");
            var target = context.RequireDatabase(parse);

            // The secret first: a refused one stops the command before anything is started.
            var secret = WorkerSecret.Resolve(context.Settings(parse), target);
            using var loggerFactory = context.CreateLoggerFactory(parse);
            await using var database = await context.OpenExistingDatabaseAsync(parse, loggerFactory, cancellationToken);
            var credentials = new WorkerCredentials(database.DataSource);
            var generation = parse.GetValue(rotate)
                ? await credentials.RotateAsync(worker, cancellationToken)
                : await credentials.GenerationAsync(worker, cancellationToken);
            Console.Out.WriteLine(WorkerTokens.Derive(secret, worker, generation));
            if (parse.GetValue(rotate))
            {
                await Console.Error.WriteLineAsync(
                    $"atc-gc: worker '{worker}' has a new token (generation {generation}); its previous token is refused from now on: give its agent this one and restart it");
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
