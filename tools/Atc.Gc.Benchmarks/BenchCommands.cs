using System.CommandLine;
using Atc.Gc.Benchmarks.Scenarios;

namespace Atc.Gc.Benchmarks;

public static class BenchCommands
{
    public static RootCommand Build()
    {
        var scale = new Option<int>("--scale") { Description = "Total volumes of the main dataset", DefaultValueFactory = _ => 1_000_000 };
        var orphanFraction = new Option<double>("--orphan-fraction") { Description = "Share of the main dataset's volumes that are orphans", DefaultValueFactory = _ => 0.1 };
        var workers = new Option<int>("--workers") { Description = "Workers the volumes are spread over", DefaultValueFactory = _ => 50 };
        var seed = new Option<int>("--seed") { Description = "Seed of the dataset generator", DefaultValueFactory = _ => 1 };
        var scenarios = new Option<string[]>("--scenarios") { Description = $"Scenarios to run ({string.Join(", ", BenchOptions.AllScenarios)})", AllowMultipleArgumentsPerToken = true };
        var peer = new Option<string?>("--peer-bench") { Description = "Directory of the Concourse-shaped reference scripts (run.sh), run beside the mark scenario" };
        var database = new Option<string?>("--database") { Description = "PostgreSQL server to use (default: a throwaway embedded cluster)" };
        var report = new Option<string?>("--report") { Description = "Write the results as Markdown to this file" };
        var plot = new Option<string?>("--plot") { Description = "Write a chart of the results to this PNG file" };
        var smoke = new Option<bool>("--smoke") { Description = "Tiny sizes, every scenario: checks the tool works" };
        Require(scale, value => value >= 100, "at least 100 volumes");
        Require(workers, value => value >= 1, "at least 1 worker");
        Require(orphanFraction, value => value > 0 && value <= 1, "a share greater than 0 and at most 1 (e.g. 0.1)");

        var run = new Command("run", "Run the benchmark scenarios and print one row per measurement")
        {
            scale, orphanFraction, workers, seed, scenarios, peer, database, report, plot, smoke,
        };
        run.SetAction(async (parse, cancellationToken) =>
        {
            var chosen = (parse.GetValue(scenarios) ?? []).SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToHashSet();
            var unknown = chosen.Except(BenchOptions.AllScenarios).ToList();
            if (unknown.Count > 0)
            {
                Console.Error.WriteLine($"atc-gc-bench: unknown scenario {string.Join(", ", unknown)}; the scenarios are {string.Join(", ", BenchOptions.AllScenarios)}");
                return 2;
            }

            var all = chosen.Count == 0 ? BenchOptions.AllScenarios.ToHashSet() : chosen;
            var options = parse.GetValue(smoke)
                ? BenchOptions.Smoke(parse.GetValue(seed))
                : BenchOptions.Full(parse.GetValue(seed), all, parse.GetValue(peer)) with
                {
                    Scale = parse.GetValue(scale),
                    Orphans = Math.Max(1, (int)Math.Round(parse.GetValue(scale) * parse.GetValue(orphanFraction))),
                    Workers = parse.GetValue(workers),
                };
            return await BenchRunner.RunAsync(options, parse.GetValue(database), parse.GetValue(report), parse.GetValue(plot), args: Environment.GetCommandLineArgs(), cancellationToken);
        });

        var measureDatabase = new Option<string>("--database") { Required = true, Description = "The dataset's database" };
        var measure = new Command("measure-pass", "Run one full collection pass in this process and print its peak memory (used by the memory scenario)") { measureDatabase };
        measure.SetAction(async (parse, cancellationToken) => await MemoryScenario.MeasurePassAsync(parse.GetValue(measureDatabase)!, cancellationToken));

        return new RootCommand("atc-gc-bench: Atc.Gc's collection, measured") { run, measure, AgentMode.Create(), AgentMode.LocalDelete(), OrchestratorMode.Create() };
    }

    /// <summary>Parses the arguments and runs the command; parse errors are one line each on stderr and exit code 2.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var parse = Build().Parse(args);
        if (parse.Errors.Count == 0)
        {
            return await parse.InvokeAsync();
        }

        foreach (var error in parse.Errors)
        {
            await Console.Error.WriteLineAsync($"atc-gc-bench: {error.Message.ReplaceLineEndings(" ")}");
        }

        return 2;
    }

    private static void Require<T>(Option<T> option, Func<T, bool> valid, string expected) =>
        option.Validators.Add(result =>
        {
            // A value that does not convert is already reported by the parser.
            T value;
            try
            {
                value = result.GetValueOrDefault<T>();
            }
            catch (InvalidOperationException)
            {
                return;
            }

            if (!valid(value))
            {
                result.AddError($"{option.Name}: '{value}' is not valid; expected {expected}");
            }
        });
}
