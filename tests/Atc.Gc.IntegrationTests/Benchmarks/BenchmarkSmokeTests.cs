using System.Text.RegularExpressions;
using Atc.Gc.IntegrationTests.Infrastructure;
using Npgsql;

namespace Atc.Gc.IntegrationTests.Benchmarks;

/// <summary>The benchmark tool at tiny sizes: every scenario runs and reports its figures, so the tool never rots.</summary>
[Collection(PostgresGroup.Name)]
public sealed partial class BenchmarkSmokeTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Every_scenario_runs_and_the_report_and_chart_are_written()
    {
        var directory = Directory.CreateTempSubdirectory("atc-gc-bench-smoke-").FullName;
        try
        {
            var report = Path.Combine(directory, "benchmarks.md");
            var plot = Path.Combine(directory, "benchmarks.png");
            var server = new NpgsqlConnectionStringBuilder(fixture.ConnectionString) { Database = "postgres" }.ConnectionString;

            var (code, stdout, stderr) = await AtcGcProcess.RunBinaryAsync(
                AtcGcProcess.LocateBinary("Atc.Gc.Benchmarks", "atc-gc-bench.dll"),
                ["run", "--smoke", "--database", server, "--report", report, "--plot", plot],
                timeout: TimeSpan.FromMinutes(5));

            Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
            var markdown = await File.ReadAllTextAsync(report);
            foreach (var scenario in new[] { "mark", "scaling", "hot path", "reclaim", "memory", "cow", "report", "report memory", "disk pressure" })
            {
                Assert.Matches(RowOf(scenario), markdown);
            }

            Assert.Contains("| machine |", markdown, StringComparison.Ordinal);
            Assert.True(new FileInfo(plot).Length > 1000);
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], (await File.ReadAllBytesAsync(plot))[..4]);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("--orphan-fraction", "1.5", "--orphan-fraction")]
    [InlineData("--orphan-fraction", "many", "--orphan-fraction")]
    [InlineData("--scale", "5", "--scale")]
    [InlineData("--workers", "0", "--workers")]
    [InlineData("--scenarios", "marks", "unknown scenario marks")]
    public async Task Bad_options_are_one_line_each_and_exit_2_before_anything_runs(string option, string value, string named)
    {
        var (code, stdout, stderr) = await AtcGcProcess.RunBinaryAsync(
            AtcGcProcess.LocateBinary("Atc.Gc.Benchmarks", "atc-gc-bench.dll"),
            ["run", option, value, "--database", "Host=127.0.0.1;Port=1;Timeout=1"],
            timeout: TimeSpan.FromMinutes(1));

        Assert.Equal(2, code);
        Assert.Empty(stdout.Trim());
        var line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith("atc-gc-bench: ", line, StringComparison.Ordinal);
        Assert.Contains(named, line, StringComparison.Ordinal);
    }

    /// <summary>A table row of the scenario with a positive item count and a measured time.</summary>
    private static Regex RowOf(string scenario) => new($@"\| {scenario} \| [^|]+ \| [1-9][\d,]* \| \d+(\.\d+)? (ms|s) \|");
}
