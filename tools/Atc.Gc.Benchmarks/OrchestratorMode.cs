using System.CommandLine;
using Atc.Gc.Database;
using Atc.Gc.Server;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Atc.Gc.Benchmarks;

/// <summary><c>atc-gc-bench orchestrator</c> (hidden): the orchestrator in a process of its own, for the report-memory scenario, which reads its resident memory.</summary>
public static class OrchestratorMode
{
    public static Command Create()
    {
        var database = new Option<string>("--database") { Required = true };
        var listen = new Option<string>("--listen") { Required = true };
        var secret = new Option<string>("--secret") { Required = true };
        var maxReport = new Option<long>("--max-report-bytes") { DefaultValueFactory = _ => 64L * 1024 * 1024 };
        var command = new Command("orchestrator", "Run the orchestrator until stopped (used by the report-memory scenario)") { database, listen, secret, maxReport };
        command.Hidden = true;
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var opened = await AtcGcDatabase.OpenAsync(parse.GetValue(database)!, cancellationToken: cancellationToken);
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Orchestrator:Listen"] = parse.GetValue(listen),
                ["Orchestrator:MaxReportBytes"] = parse.GetValue(maxReport).ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Workers:TokenSecret"] = parse.GetValue(secret),
            }).Build();
            await using var app = OrchestratorHost.Build(configuration, opened.DataSource, logging => logging.SetMinimumLevel(LogLevel.Error));
            await app.StartAsync(cancellationToken);
            await app.WaitForShutdownAsync(cancellationToken);
            return 0;
        });
        return command;
    }
}
