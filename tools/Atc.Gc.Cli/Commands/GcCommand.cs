using System.CommandLine;
using Atc.Gc.Collection;

namespace Atc.Gc.Cli.Commands;

/// <summary>
/// <c>atc-gc gc pause|resume|status</c>: an operator's switch for collection on every node, and where
/// each collector last ran. Paused, no collector runs anywhere (passes in progress finish); health and
/// metrics say so.
/// </summary>
public static class GcCommand
{
    public static Command Create(CliContext context)
    {
        var reason = new Option<string?>("--reason") { Description = "Why (shown in status and health)" };
        var pause = new Command("pause", "Pause collection on every node until 'atc-gc gc resume'") { reason };
        pause.SetAction(async (parse, cancellationToken) =>
        {
            await using var session = await context.InspectAsync(parse, cancellationToken);
            var by = $"{Environment.UserName}@{Environment.MachineName}";
            await new CollectorCoordinator(session.Database.DataSource).PauseAsync(by, parse.GetValue(reason), cancellationToken);
            Console.Out.WriteLine($"collection paused by {by}; 'atc-gc gc resume' resumes it");
            return ExitCodes.Success;
        });

        var resume = new Command("resume", "Resume collection");
        resume.SetAction(async (parse, cancellationToken) =>
        {
            await using var session = await context.InspectAsync(parse, cancellationToken);
            var resumed = await new CollectorCoordinator(session.Database.DataSource).ResumeAsync(cancellationToken);
            Console.Out.WriteLine(resumed ? "collection resumed" : "collection was not paused");
            return ExitCodes.Success;
        });

        var json = ListCommands.Json();
        var status = new Command("status", "Whether collection is paused, and when and where each collector last ran") { json };
        status.SetAction(async (parse, cancellationToken) =>
        {
            await using var session = await context.InspectAsync(parse, cancellationToken);
            var coordinator = new CollectorCoordinator(session.Database.DataSource);
            var paused = await coordinator.PausedAsync(cancellationToken);
            var runs = await coordinator.RunsAsync(cancellationToken);
            if (parse.GetValue(json))
            {
                Output.Json(new { paused, collectors = runs });
                return ExitCodes.Success;
            }

            Console.Out.WriteLine(paused is null
                ? "collection is running"
                : $"collection is PAUSED by {paused.PausedBy} since {paused.PausedAt:u}{(paused.Reason is null ? string.Empty : ": " + paused.Reason)}");
            Output.Table(
                ["COLLECTOR", "LAST STARTED", "MS", "NODE", "ERROR"],
                runs.Select(r => (IReadOnlyList<string?>)[
                    r.Collector, Output.Ago(r.LastStartedAt), r.LastDurationMs?.ToString("F0", System.Globalization.CultureInfo.InvariantCulture), r.LastNode, r.LastError]));
            return ExitCodes.Success;
        });

        return new Command("gc", "Pause, resume or inspect collection across the cluster") { pause, resume, status };
    }
}
