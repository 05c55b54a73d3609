using System.CommandLine;
using Atc.Gc.Collection;
using Atc.Gc.Inspection;
using Atc.Gc.Lifecycle;
using Atc.Gc.Model;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace Atc.Gc.Cli.Commands;

/// <summary>
/// <c>atc-gc explain &lt;handle&gt;</c>: why a volume is alive — its owners traced to builds, jobs and
/// uses, its parent and children, its time in its state — or what the next pass will do to it. The
/// verdict comes from a dry run of the next pass, so it is exactly what the collectors would do.
/// </summary>
public static class ExplainCommand
{
    public static Command Create(CliContext context)
    {
        var handle = new Argument<string>("handle") { Description = "The volume's handle" };
        var json = ListCommands.Json();
        var command = new Command("explain", "Explain why a volume is alive, or why it will be collected on the next pass") { handle, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var wanted = HandleFormat.Validate(parse.GetValue(handle), "handle");
            await using var session = await context.InspectAsync(parse, cancellationToken);
            var facts = await session.Inspector.FactsAsync(wanted, cancellationToken)
                ?? throw new UsageException($"no volume with handle '{wanted}'");

            await using var services = new ServiceCollection()
                .AddSingleton(session.LoggerFactory)
                .AddLogging()
                .AddAtcGcStore(session.Database.DataSource)
                .AddAtcGcCollector(context.Settings(parse))
                .BuildServiceProvider();
            VolumeState? after = null;
            await services.GetRequiredService<GarbageCollector>().RunPassAsync(
                new PassRequest(DryRun: true, InspectDryRun: async (connection, ct) =>
                {
                    var label = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
                        "SELECT state::text FROM volumes WHERE id = @Id", new { facts.Volume.Id }, cancellationToken: ct));
                    after = label is null ? null : VolumeStates.Parse(label);
                }),
                cancellationToken);

            var verdict = VolumeVerdict.Judge(facts, after, DateTimeOffset.UtcNow);
            if (parse.GetValue(json))
            {
                Output.Json(new
                {
                    volume = facts.Volume,
                    workerState = facts.WorkerState,
                    owners = facts.Owners,
                    parent = facts.Parent,
                    children = facts.Children,
                    verdict = new { collectable = verdict.Collectable, summary = verdict.Summary, reasons = verdict.Reasons },
                });
                return ExitCodes.Success;
            }

            var v = facts.Volume;
            Console.Out.WriteLine($"volume {v.Handle} on worker {v.Worker} ({facts.WorkerState})");
            Console.Out.WriteLine($"  {verdict.Summary}");
            foreach (var reason in verdict.Reasons)
            {
                Console.Out.WriteLine($"  - {reason}");
            }

            Console.Out.WriteLine($"  state {v.State} since {v.StateChangedAt:u} ({Output.Ago(v.StateChangedAt)}), created {v.CreatedAt:u}");
            Console.Out.WriteLine($"  parent: {facts.Parent ?? "none"}");
            Console.Out.WriteLine($"  children: {facts.Children ?? "none"}");
            return ExitCodes.Success;
        });
        return command;
    }
}
