using System.CommandLine;
using Atc.Gc.Embedded;
using Atc.Gc.Migrations;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Atc.Gc.Cli.Commands;

/// <summary>
/// <c>atc-gc migrate</c>: applies the schema and says what it did; <c>--to VERSION</c> moves it to a
/// version (reverting newer migrations, for a rollback), after showing what it does (--yes, --dry-run).
/// </summary>
public static class MigrateCommand
{
    public static Command Create(CliContext context)
    {
        var to = new Option<long?>("--to")
        {
            Description = "Move the schema to this version: revert newer migrations (a rollback) or apply missing ones; shows them and asks first",
        };
        var command = new Command("migrate", "Apply database migrations (under an advisory lock) and print the schema version") { to };
        var confirmation = Confirmation.For(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            // Without --to, a dry run shows what migrating to the newest version would apply.
            var target = parse.GetValue(to) ?? (confirmation.IsDryRun(parse) ? DatabaseMigrator.KnownVersions[^1] : (long?)null);
            if (target is null)
            {
                return await MigrateUpAsync(context, parse, cancellationToken);
            }

            if (!SchemaMove.IsKnown(target.Value))
            {
                throw new UsageException($"--to: unknown schema version {target}: known versions are {string.Join(", ", DatabaseMigrator.KnownVersions)}; nothing was changed");
            }

            confirmation.RequireAnswerable(parse);
            using var loggerFactory = context.CreateLoggerFactory(parse);
            await using var database = await ServerAsync(context.RequireDatabase(parse), loggerFactory, cancellationToken);
            var where = Describe(database.ConnectionString);
            return await confirmation.RunAsync(
                parse,
                json: false,
                async () => new Plan(Lines(await Refusing(() => SchemaMove.PlanAsync(database.ConnectionString, target.Value, cancellationToken)), planned: true)),
                async () =>
                {
                    var moved = await Progress.RunAsync(
                        $"moving the schema of {where} to version {target}",
                        () => Refusing(() => SchemaMove.MoveAsync(database.ConnectionString, target.Value, loggerFactory, cancellationToken)));
                    Console.Out.WriteLine($"{where}: {string.Join("; ", Lines(moved, planned: false))}");
                    return ExitCodes.Success;
                });
        });
        return command;
    }

    /// <summary>A schema this atc-gc cannot move (it holds a migration unknown here) is bad input: one line, exit code 2, nothing changed.</summary>
    private static async Task<SchemaMovePlan> Refusing(Func<Task<SchemaMovePlan>> move)
    {
        try
        {
            return await move();
        }
        catch (UnknownMigrationException ex)
        {
            throw new UsageException($"{ex.Message}; nothing was changed", ex);
        }
    }

    private static async Task<int> MigrateUpAsync(CliContext context, ParseResult parse, CancellationToken cancellationToken)
    {
        using var loggerFactory = context.CreateLoggerFactory(parse);
        await using var database = await Progress.RunAsync("migrating", () => context.OpenDatabaseAsync(parse, loggerFactory, cancellationToken));
        var report = database.Migration;
        Console.Out.WriteLine(report.Applied.Count == 0
            ? $"{database.Describe()}: schema is current at version {report.CurrentVersion}"
            : $"{database.Describe()}: applied {string.Join(", ", report.Applied)}; schema at version {report.CurrentVersion}");
        return ExitCodes.Success;
    }

    private static IReadOnlyList<string> Lines(SchemaMovePlan plan, bool planned)
    {
        if (plan.Steps.Count == 0)
        {
            return [$"schema is at version {plan.TargetVersion}: nothing to do"];
        }

        return
        [
            .. plan.Steps.Select(s => $"{(planned ? "would " : string.Empty)}{(s.Revert ? (planned ? "revert" : "reverted") : (planned ? "apply" : "applied"))} {s.Version} ({s.Description})"),
            $"schema {(planned ? "would be" : "is")} at version {plan.TargetVersion}",
        ];
    }

    private static string Describe(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{builder.Host}:{builder.Port}/{builder.Database}";
    }

    /// <summary>The database's server without migrating it: the given one, or the embedded cluster started (and stopped after) when that is the choice.</summary>
    private static async Task<Server> ServerAsync(DatabaseChoice choice, ILoggerFactory loggerFactory, CancellationToken cancellationToken) =>
        choice.ConnectionString is { } connectionString
            ? new Server(connectionString, null)
            : Server.Of(await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(), loggerFactory.CreateLogger<EmbeddedPostgres>(), cancellationToken));

    private sealed record Server(string ConnectionString, EmbeddedPostgres? Embedded) : IAsyncDisposable
    {
        public static Server Of(EmbeddedPostgres embedded) => new(embedded.ConnectionString, embedded);

        public ValueTask DisposeAsync() => Embedded?.DisposeAsync() ?? ValueTask.CompletedTask;
    }
}
