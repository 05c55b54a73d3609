using System.Globalization;
using Xunit.Abstractions;

namespace Atc.Gc.IntegrationTests.Randomized;

/// <summary>
/// The promises as a whole, under a seeded random workload with faults: real agent processes, the
/// orchestrator and at times a second collector, a scheduler holding volumes in use, operator
/// commands, agents killed and hung, the orchestrator killed (at times for long), PostgreSQL
/// restarted. Throughout, no volume in use leaves its worker's disk or becomes destroying (safe);
/// after the faults stop and everything is released, the database and every disk are empty within
/// a bound (airtight). The suite runs 1,000 steps; a long run:
/// <c>ATC_GC_RANDOMIZED_OPERATIONS=10000 ATC_GC_RANDOMIZED_REPORT=randomized.txt dotnet test tests/Atc.Gc.IntegrationTests --filter FullyQualifiedName~Randomized</c>
/// (<c>ATC_GC_RANDOMIZED_SEED</c> picks another seed).
/// </summary>
public sealed class RandomizedSafetyTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Under_random_operations_and_faults_nothing_in_use_is_lost_and_everything_released_is_reclaimed()
    {
        var operations = Setting("ATC_GC_RANDOMIZED_OPERATIONS", 1000);
        var seed = Setting("ATC_GC_RANDOMIZED_SEED", 1);
        output.WriteLine($"randomized run: {operations} operations, seed {seed}");

        var result = await new RandomizedRun(operations, seed, output.WriteLine).RunAsync();

        var summary = result.Summary();
        output.WriteLine(summary);
        if (Environment.GetEnvironmentVariable("ATC_GC_RANDOMIZED_REPORT") is { Length: > 0 } report)
        {
            await File.WriteAllTextAsync(report, $"seed {seed}\n{summary}");
        }

        Assert.True(result.Violations.Count == 0, $"{result.Violations.Count} violations:\n{string.Join('\n', result.Violations.Take(20))}\n{summary}");
        Assert.True(result.Leftovers.Count == 0, $"left after the run:\n{string.Join('\n', result.Leftovers.Take(30))}\n{summary}\n{result.Logs}");
    }

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : fallback;
}
