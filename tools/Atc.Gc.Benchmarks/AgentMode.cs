using System.CommandLine;
using Atc.Gc.Agent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Atc.Gc.Benchmarks;

/// <summary><c>atc-gc-bench agent</c> (hidden): a worker agent in a process of its own, for the reclaim scenario.</summary>
public static class AgentMode
{
    public static Command Create()
    {
        var name = new Option<string>("--name") { Required = true };
        var root = new Option<string>("--root") { Required = true };
        var listen = new Option<string>("--listen") { Required = true };
        var token = new Option<string?>("--token") { Description = "The worker's token (default: ATC_GC_WORKER_TOKEN, which keeps it off the command line)" };
        var orchestrator = new Option<string?>("--orchestrator") { Description = "Register, heartbeat and report to this orchestrator (production intervals)" };
        var driver = new Option<string>("--driver") { DefaultValueFactory = _ => "detect" };
        var command = new Command("agent", "Run a worker agent until stopped (used by the reclaim scenario)") { name, root, listen, token, orchestrator, driver };
        command.Hidden = true;
        command.SetAction(async (parse, cancellationToken) =>
        {
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Agent:Name"] = parse.GetValue(name),
                ["Agent:Root"] = parse.GetValue(root),
                ["Agent:Listen"] = parse.GetValue(listen),
                ["Agent:Token"] = parse.GetValue(token) ?? Environment.GetEnvironmentVariable("ATC_GC_WORKER_TOKEN"),
                ["Agent:Orchestrator"] = parse.GetValue(orchestrator),
                ["Agent:Driver"] = parse.GetValue(driver),
            }).Build();
            await using var app = AgentHost.Build(configuration, logging => logging.SetMinimumLevel(LogLevel.Warning));
            await app.StartAsync(cancellationToken);
            await app.WaitForShutdownAsync(cancellationToken);
            return 0;
        });
        return command;
    }

    /// <summary>
    /// <c>atc-gc-bench local-delete</c> (hidden): deletes every volume of an agent's directory whose handle
    /// starts with a prefix, through the agent's own store, several at a time, and prints the seconds
    /// it took — an agent's local delete rate, in a process of its own like the agent.
    /// </summary>
    public static Command LocalDelete()
    {
        var root = new Option<string>("--root") { Required = true };
        var prefix = new Option<string>("--prefix") { Required = true };
        var lanes = new Option<int>("--lanes") { DefaultValueFactory = _ => 1 };
        var command = new Command("local-delete", "Delete an agent's volumes locally and print the seconds it took") { root, prefix, lanes };
        command.Hidden = true;
        command.SetAction(async (parse, cancellationToken) =>
        {
            var store = VolumeStore.Open(parse.GetValue(root)!, recover: false);
            var handles = store.List(withSizes: false).Select(v => v.Handle).Where(h => h.StartsWith(parse.GetValue(prefix)!, StringComparison.Ordinal)).ToList();
            var width = parse.GetValue(lanes);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, width).Select(lane => Task.Run(async () =>
            {
                foreach (var handle in handles.Where((_, i) => i % width == lane))
                {
                    await store.DeleteAsync(handle, TimeSpan.FromHours(1), cancellationToken);
                }
            }, cancellationToken)));
            Console.Out.WriteLine(clock.Elapsed.TotalSeconds.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
            return 0;
        });
        return command;
    }
}
