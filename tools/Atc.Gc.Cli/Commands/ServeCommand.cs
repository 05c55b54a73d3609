using System.CommandLine;
using Atc.Gc.Server;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Configuration;

namespace Atc.Gc.Cli.Commands;

/// <summary><c>atc-gc serve</c>: the orchestrator — collector, worker API, health and metrics.</summary>
public static class ServeCommand
{
    public static Command Create(CliContext context)
    {
        var listen = new Option<string?>("--listen")
        {
            Description = $"Address to listen on (port 0 picks a free port); default {OrchestratorOptions.Section}:Listen, else http://127.0.0.1:8080",
        };
        var command = new Command("serve", "Run the orchestrator: the collector and the API worker agents call (/api/v1/workers), /health/live, /health/ready, /metrics") { listen };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = context.Settings(parse, [KeyValuePair.Create($"{OrchestratorOptions.Section}:Listen", parse.GetValue(listen))], host: true);
            using var loggerFactory = context.CreateLoggerFactory(parse);
            var target = context.RequireDatabase(parse);
            var secret = WorkerSecret.Resolve(settings, target);
            await using var database = await CliContext.OpenDatabaseAsync(target, loggerFactory, cancellationToken);
            var configuration = new ConfigurationBuilder()
                .AddConfiguration(settings)
                .AddInMemoryCollection([KeyValuePair.Create<string, string?>(WorkerSecret.ConfigurationKey, secret)])
                .Build();
            await using var app = OrchestratorHost.Build(configuration, database.DataSource);
            await app.StartAsync(cancellationToken);
            Console.Out.WriteLine($"atc-gc orchestrator listening on {Web.ServerAddresses.First(app.Services.GetRequiredService<IServer>())} (database {database.Describe()})");
            await app.WaitForShutdownAsync(cancellationToken);
            return ExitCodes.Success;
        });
        return command;
    }
}
