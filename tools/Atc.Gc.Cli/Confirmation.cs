using System.CommandLine;

namespace Atc.Gc.Cli;

/// <summary>What a command that changes things shows before it does: lines for people, and the same as an object for --json.</summary>
public sealed record Plan(IReadOnlyList<string> Lines, object? Json = null);

/// <summary>
/// <c>--yes</c> and <c>--dry-run</c> for a command that changes the database. Without either it shows
/// its plan and asks; when standard input is not a terminal there is no one to ask, and it refuses
/// (exit code 2) before it opens anything.
/// </summary>
public sealed class Confirmation
{
    private readonly Option<bool> yes = new("--yes", "-y") { Description = "Do it without asking" };
    private readonly Option<bool> dryRun = new("--dry-run") { Description = "Only show what would be done; change nothing" };
    private readonly string commandName;

    private Confirmation(string commandName) => this.commandName = commandName;

    /// <summary>Adds --yes and --dry-run to <paramref name="command"/>.</summary>
    public static Confirmation For(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var confirmation = new Confirmation(command.Name);
        command.Options.Add(confirmation.yes);
        command.Options.Add(confirmation.dryRun);
        return confirmation;
    }

    /// <summary>Whether --dry-run was given: only show.</summary>
    public bool IsDryRun(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        return parse.GetValue(dryRun);
    }

    /// <summary>The refusal line when neither option is given and standard input is not a terminal.</summary>
    public string Refusal =>
        $"{commandName} changes the database and standard input is not a terminal to ask: pass --yes to do it or --dry-run to only show it; nothing was changed";

    /// <summary>Call first, before opening anything: refuses (exit code 2) when there is no one to ask.</summary>
    public void RequireAnswerable(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        if (!parse.GetValue(yes) && !parse.GetValue(dryRun) && !Terminal.IsInput)
        {
            throw new UsageException(Refusal);
        }
    }

    /// <summary>
    /// With --yes, applies; with --dry-run, prints the plan (as JSON with <paramref name="json"/>) and
    /// changes nothing; otherwise shows the plan on stderr and applies only on "y" or "yes".
    /// </summary>
    public async Task<int> RunAsync(ParseResult parse, bool json, Func<Task<Plan>> plan, Func<Task<int>> apply)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(apply);
        RequireAnswerable(parse);
        if (parse.GetValue(yes) && !parse.GetValue(dryRun))
        {
            return await apply();
        }

        var planned = await plan();
        if (parse.GetValue(dryRun))
        {
            if (json)
            {
                Output.Json(planned.Json ?? planned.Lines);
                return ExitCodes.Success;
            }

            planned.Lines.ToList().ForEach(Console.Out.WriteLine);
            Console.Out.WriteLine("dry run: nothing was changed");
            return ExitCodes.Success;
        }

        planned.Lines.ToList().ForEach(Console.Error.WriteLine);
        await Console.Error.WriteAsync("Go ahead? [y/N] ");
        var answer = Console.ReadLine()?.Trim();
        if (answer is not null && (answer.Equals("y", StringComparison.OrdinalIgnoreCase) || answer.Equals("yes", StringComparison.OrdinalIgnoreCase)))
        {
            return await apply();
        }

        await Console.Error.WriteLineAsync("atc-gc: not confirmed; nothing was changed");
        return ExitCodes.Failure;
    }
}
