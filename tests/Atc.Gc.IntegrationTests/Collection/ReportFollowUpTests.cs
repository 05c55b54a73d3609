using Atc.Gc.Collection;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Lifecycle;
using Atc.Gc.Workers;
using Npgsql;

namespace Atc.Gc.IntegrationTests.Collection;

/// <summary>
/// A report locks the rows it updates until it commits, and a pass running meanwhile skips them
/// (SKIP LOCKED): nothing must then wait for the interval.
/// </summary>
public sealed class ReportFollowUpTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task A_report_that_updated_volume_rows_asks_for_a_pass_once_it_commits()
    {
        await Given.WorkerAsync("w1");
        var volume = await Given.VolumeAsync(VolumeState.Initialized, "w1");
        var listedAfter = new DateTimeOffset(DateTime.SpecifyKind(await Given.ScalarAsync<DateTime>("SELECT now()"), DateTimeKind.Utc));
        var (quiet, sized) = (await ReportAsync([]), await ReportAsync([new ReportedVolumeDto(volume.Handle, 100, 4096)], listedAfter));

        Assert.Null(quiet);
        Assert.Equal("volume report", sized);
    }

    /// <summary>Applies a report and returns the collection signal it sent, or null when it sent none.</summary>
    private async Task<string?> ReportAsync(IReadOnlyList<ReportedVolumeDto> volumes, DateTimeOffset? listedAfter = null)
    {
        await using var listener = await DataSource.OpenConnectionAsync();
        var signals = new List<string>();
        listener.Notification += (_, e) => signals.Add(e.Payload);
        await using (var listen = new NpgsqlCommand($"LISTEN {CollectionSignal.Channel}", listener))
        {
            await listen.ExecuteNonQueryAsync();
        }

        var outcome = await new VolumeReportService(DataSource).ApplyAsync("w1", new VolumeReportRequest(volumes, listedAfter), TimeSpan.FromMinutes(5));
        Assert.NotNull(outcome);

        // Notifications are delivered at commit; one round trip later they have arrived.
        await using (var ping = new NpgsqlCommand("SELECT 1", listener))
        {
            await ping.ExecuteScalarAsync();
        }

        await listener.WaitAsync(TimeSpan.FromMilliseconds(200));
        return signals.SingleOrDefault();
    }
}
