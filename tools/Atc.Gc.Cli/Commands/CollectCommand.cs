using System.CommandLine;
using System.Text.Json;
using Atc.Gc.Collection;
using Atc.Gc.Web.Hosting;
using Atc.Gc.Workers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Atc.Gc.Cli.Commands;

/// <summary><c>atc-gc collect</c>: one collection pass (<c>--once</c>), or passes until stopped.</summary>
public static class CollectCommand
{
    public static Command Create(CliContext context)
    {
        var once = new Option<bool>("--once") { Description = "Run one pass, print what each collector did, and exit" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Report what would be collected; change nothing and call no worker (implies --once)" };
        var json = new Option<bool>("--json") { Description = "Print the pass report as JSON" };
        var only = new Option<string[]>("--only")
        {
            Description = "Run only these collectors (repeat or comma-separate)",
            AllowMultipleArgumentsPerToken = true,
        };

        var command = new Command("collect", "Run garbage collection: one pass with --once, else passes until stopped") { once, dryRun, json, only };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var runsUntilStopped = !parse.GetValue(once) && !parse.GetValue(dryRun);
            var settings = context.Settings(parse, host: runsUntilStopped);
            using var loggerFactory = context.CreateLoggerFactory(parse);
            var isDryRun = parse.GetValue(dryRun);
            var names = (parse.GetValue(only) ?? []).SelectMany(n => n.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();
            var target = context.RequireDatabase(parse);
            if (!isDryRun)
            {
                RequireWorkerSecret(settings);
            }

            await using var database = await CliContext.OpenDatabaseAsync(target, loggerFactory, cancellationToken);
            if (runsUntilStopped)
            {
                return await RunUntilStoppedAsync(settings, database, loggerFactory, cancellationToken);
            }

            await using var services = new ServiceCollection()
                .AddSingleton(loggerFactory)
                .AddLogging()
                .AddAtcGcStore(database.DataSource)
                .AddAtcGcCollector(settings)
                .BuildServiceProvider();
            var collector = services.GetRequiredService<GarbageCollector>();
            var report = await Progress.RunAsync(
                isDryRun ? "collecting (dry run)" : "collecting",
                () => collector.RunPassAsync(new PassRequest(isDryRun, WaitForWorkers: true, Only: names.Length == 0 ? null : names), cancellationToken));
            if (report.Paused is { } paused)
            {
                await Console.Error.WriteLineAsync($"atc-gc: collection is paused (by {paused.PausedBy} since {paused.PausedAt:u}): nothing was collected; 'atc-gc gc resume' resumes it");
                return ExitCodes.Failure;
            }

            if (parse.GetValue(json) || !Terminal.IsOutput)
            {
                Console.Out.Write(parse.GetValue(json) ? ToJson(report) : ToTable(report));
            }
            else
            {
                PassReportTable.Write(report);
            }

            return report.Failed ? ExitCodes.Failure : ExitCodes.Success;
        });
        return command;
    }

    private static async Task<int> RunUntilStoppedAsync(
        IConfiguration settings, Database.AtcGcDatabase database, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddConfiguration(settings);
        builder.Logging.UseHostLogging(builder.Configuration);
        builder.Services.AddAtcGcStore(database.DataSource).AddAtcGcCollector(builder.Configuration).AddAtcGcCollectorService();
        using var host = builder.Build();
        loggerFactory.CreateLogger("atc-gc").LogInformation("Collecting on {Database}", database.Describe());
        await host.RunAsync(cancellationToken);
        return ExitCodes.Success;
    }

    private static void RequireWorkerSecret(IConfiguration settings)
    {
        var secret = settings[$"{WorkerClientOptions.Section}:{nameof(WorkerClientOptions.TokenSecret)}"];
        if (string.IsNullOrEmpty(secret))
        {
            throw new UsageException(WorkerClientOptions.MissingSecret);
        }

        WorkerTokens.RequireSecret(secret);
    }

    internal static string ToTable(PassReport report)
    {
        var lines = new List<string>
        {
            $"{"collector",-22} {"examined",10} {"changed",10} {"ms",8}",
        };
        foreach (var c in report.Collectors)
        {
            lines.Add($"{c.Collector,-22} {c.Examined,10} {c.Changed,10} {c.Duration.TotalMilliseconds,8:F0}{(c.Failed ? "  FAILED: " + c.Error : string.Empty)}");
            lines.AddRange(c.Details.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => $"  {d.Key,-20} {d.Value,10}"));
        }

        lines.Add($"pass{(report.DryRun ? " (dry run: nothing was changed)" : string.Empty)}: {report.Changed} rows changed in {report.Duration.TotalMilliseconds:F0} ms");
        return string.Join(Environment.NewLine, lines) + Environment.NewLine;
    }

    internal static string ToJson(PassReport report) => JsonSerializer.Serialize(new
    {
        startedAt = report.StartedAt,
        durationMs = Math.Round(report.Duration.TotalMilliseconds, 1),
        dryRun = report.DryRun,
        failed = report.Failed,
        changed = report.Changed,
        collectors = report.Collectors.Select(c => new
        {
            name = c.Collector,
            examined = c.Examined,
            changed = c.Changed,
            durationMs = Math.Round(c.Duration.TotalMilliseconds, 1),
            error = c.Error,
            details = c.Details,
        }),
    }, Indented) + Environment.NewLine;

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}
