using System.Text.Json;
using Atc.Gc.IntegrationTests.Infrastructure;

namespace Atc.Gc.IntegrationTests.DiskPressure;

/// <summary><c>atc-gc disk</c>, run as a real process: the figures and the dry run, and bad policy refused with its key.</summary>
public sealed class DiskCommandTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task Disk_shows_each_workers_figures_and_what_the_next_pass_would_evict_without_changing_anything()
    {
        var disk = new DiskScenario(Given, Store);
        await Given.WorkerAsync("w1");
        await Given.WorkerAsync("w2");
        var oldest = await disk.KeptAsync("w1", 600, TimeSpan.FromHours(2));
        var newest = await disk.KeptAsync("w1", 400, TimeSpan.FromHours(1));
        await disk.KeptAsync("w2", 100, TimeSpan.FromHours(1));
        await disk.ReportDiskAsync("w1", capacity: 1000);
        await disk.ReportDiskAsync("w2", capacity: 1000);

        var (code, stdout, stderr) = await AtcGcProcess.RunAsync(["disk", "--json", "--database", Fixture.ConnectionString]);
        var table = await AtcGcProcess.RunAsync(["disk", "--worker", "w1", "--database", Fixture.ConnectionString]);

        Assert.True(code == 0, stderr);
        var workers = JsonDocument.Parse(stdout).RootElement.GetProperty("workers").EnumerateArray().ToDictionary(w => w.GetProperty("worker").GetString()!);
        Assert.Equal(1000, workers["w1"].GetProperty("usedBytes").GetInt64());
        Assert.Equal(1000, workers["w1"].GetProperty("evictableBytes").GetInt64());
        Assert.Equal("high-watermark", workers["w1"].GetProperty("reason").GetString());
        Assert.Equal([oldest.Handle], workers["w1"].GetProperty("wouldEvict").EnumerateArray().Select(e => e.GetProperty("handle").GetString()));
        Assert.Empty(workers["w2"].GetProperty("wouldEvict").EnumerateArray());
        Assert.Equal(0, table.ExitCode);
        Assert.Contains($"would evict {oldest.Handle} on w1", table.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("w2", table.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(2, (await disk.StillCachedAsync([oldest.Id, newest.Id])).Count);
    }

    [Fact]
    public async Task A_bad_policy_is_refused_with_its_key()
    {
        var (code, _, stderr) = await AtcGcProcess.RunAsync(
            ["disk", "--database", Fixture.ConnectionString],
            new Dictionary<string, string?> { ["Collector__DiskPressure__Workers__w1__LowWatermarkPercent"] = "95" });

        Assert.Equal(2, code);
        Assert.Contains("Collector:DiskPressure:Workers:w1:LowWatermarkPercent", stderr, StringComparison.Ordinal);
    }
}
