using System.CommandLine;
using Atc.Gc.Model;
using Atc.Gc.Workers;

namespace Atc.Gc.Cli.Commands;

/// <summary><c>atc-gc worker-token &lt;name&gt;</c>: the token to give a worker.</summary>
public static class WorkerTokenCommand
{
    public static Command Create(CliContext context)
    {
        var name = new Argument<string>("name") { Description = "The worker's name" };
        var command = new Command("worker-token", "Print the token of a worker (derived from the orchestrator's worker token secret)") { name };
        command.SetAction(parse =>
        {
            var worker = WorkerNames.Validate(parse.GetValue(name), "name");
            var secret = WorkerSecret.Resolve(context.Configuration, context.ChooseDatabase(parse));
            Console.Out.WriteLine(WorkerTokens.Derive(secret, worker));
            return ExitCodes.Success;
        });
        return command;
    }
}
