using System.CommandLine;

namespace Atc.Gc.Cli.Commands;

/// <summary><c>atc-gc migrate</c>: applies the schema and says what it did.</summary>
public static class MigrateCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("migrate", "Apply database migrations (under an advisory lock) and print the schema version");
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var loggerFactory = context.CreateLoggerFactory(parse);
            await using var database = await context.OpenDatabaseAsync(parse, loggerFactory, cancellationToken);
            var report = database.Migration;
            Console.Out.WriteLine(report.Applied.Count == 0
                ? $"{database.Describe()}: schema is current at version {report.CurrentVersion}"
                : $"{database.Describe()}: applied {string.Join(", ", report.Applied)}; schema at version {report.CurrentVersion}");
            return ExitCodes.Success;
        });
        return command;
    }
}
