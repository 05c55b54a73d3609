using System.Net;
using System.Text;
using System.Text.Json;
using Atc.Gc.Collection;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Lifecycle;
using Atc.Gc.Scheduling;
using Atc.Gc.Workers;
using Microsoft.Extensions.DependencyInjection;

namespace Atc.Gc.IntegrationTests.Safety;

/// <summary>
/// Volume reports never make an in-use volume missing or gone: a report does not mark what was made
/// after its listing was taken, "missing long enough" counts reports taken after the mark (not time,
/// so an orchestrator outage changes nothing), and a volume with an owner — or with an owned
/// descendant — is never forgotten. Requests are written as JSON, as an agent sends them.
/// </summary>
public sealed class ReportSafetyTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    private OrchestratorInstance orchestrator = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource, new Dictionary<string, string?> { ["Collector:MissingGrace"] = "00:00:00" });
    }

    public override async Task DisposeAsync() => await orchestrator.DisposeAsync();

    [Fact]
    public async Task A_report_does_not_mark_missing_a_volume_made_after_its_listing_was_taken()
    {
        await RegisterAsync("w1");
        var listedAfter = await Given.ScalarAsync<DateTime>("SELECT now()");
        // The agent lists its (empty) disk; meanwhile the scheduler makes a volume on it.
        var made = await Given.VolumeAsync(VolumeState.Initialized, "w1");

        await ReportAsync("w1", listedAfter);

        Assert.Null((await Store.Volumes.FindAsync(made.Id))!.MissingSince);
    }

    [Fact]
    public async Task A_stale_report_and_an_outage_longer_than_the_grace_never_destroy_a_running_builds_volume()
    {
        await RegisterAsync("w1");
        var listedAfter = await Given.ScalarAsync<DateTime>("SELECT now()");
        var inUse = await Given.VolumeAsync(VolumeState.Initialized, "w1"); // owned by a running build's container
        await ReportAsync("w1", listedAfter);                              // stale: taken before the volume was made

        // The orchestrator is down for longer than any grace; the heartbeat comes back before the next report.
        await Given.ExecuteAsync("UPDATE volumes SET missing_since = now() - interval '1 day' WHERE missing_since IS NOT NULL");
        await RegisterAsync("w1");
        await PassAsync();
        var next = await ReportAsync("w1", await Given.ScalarAsync<DateTime>("SELECT now()"), (inUse.Handle, 3600));

        Assert.NotNull(await Store.Volumes.FindAsync(inUse.Id));
        Assert.DoesNotContain(inUse.Handle, next.Destroy);
    }

    [Fact]
    public async Task A_missing_volume_is_forgotten_only_after_reports_taken_after_the_mark_not_after_time()
    {
        await RegisterAsync("w1");
        var lost = await Given.OrphanAsync(VolumeState.Initialized, "w1");
        await Given.ExecuteAsync("UPDATE volumes SET state = 'initialized', missing_since = NULL"); // an orphan the collector has not marked yet
        await ReportAsync("w1", await Given.ScalarAsync<DateTime>("SELECT now()"));
        Assert.NotNull((await Store.Volumes.FindAsync(lost.Id))!.MissingSince);

        // Hours pass without a report: nothing is forgotten (only the orphan rule could reclaim it, on the worker).
        await Given.ExecuteAsync("UPDATE volumes SET missing_since = now() - interval '1 day'");
        await PassAsync(only: "missing-volumes");
        Assert.NotNull(await Store.Volumes.FindAsync(lost.Id));

        // Two more reports whose listings were taken after the mark: now it is forgotten.
        await ReportAsync("w1", await Given.ScalarAsync<DateTime>("SELECT now()"));
        await ReportAsync("w1", await Given.ScalarAsync<DateTime>("SELECT now()"));
        await PassAsync(only: "missing-volumes");
        Assert.Null(await Store.Volumes.FindAsync(lost.Id));
    }

    [Fact]
    public async Task A_missing_parent_is_kept_while_a_descendant_is_owned_and_the_child_is_never_destroyed()
    {
        await RegisterAsync("w1");
        var parent = await Given.VolumeAsync(VolumeState.Initialized, "w1");
        await Given.ReleaseContainerAsync(parent.Owners.ContainerId!.Value);
        var container = await Given.ContainerAsync("w1");
        var child = (await Store.Volumes.CreateCopyOnWriteChildAsync(parent.Id, VolumeOwners.Container(container.Id))).Volume!;
        await Store.Volumes.MarkCreatedAsync(child.Id);

        // The worker lost the parent; the child (a running build's) is still on its disk.
        for (var i = 0; i < 4; i++)
        {
            await ReportAsync("w1", await Given.ScalarAsync<DateTime>("SELECT now()"), (child.Handle, 3600));
        }

        await Given.ExecuteAsync("UPDATE volumes SET missing_since = now() - interval '1 day' WHERE missing_since IS NOT NULL");
        await PassAsync();
        var after = await ReportAsync("w1", await Given.ScalarAsync<DateTime>("SELECT now()"), (child.Handle, 3600));

        Assert.NotNull(await Store.Volumes.FindAsync(parent.Id));
        Assert.NotNull(await Store.Volumes.FindAsync(child.Id));
        Assert.DoesNotContain(child.Handle, after.Destroy);
    }

    private Task<PassReport> PassAsync(string? only = null) =>
        orchestrator.Services.GetRequiredService<GarbageCollector>().RunPassAsync(new PassRequest(WaitForWorkers: true, Only: only is null ? null : [only]));

    private async Task RegisterAsync(string worker)
    {
        using var client = orchestrator.ClientFor(worker);
        var response = await client.PutAsync(OrchestratorProtocol.WorkerPath(worker), Json(new { baseUrl = "http://127.0.0.1:7788/", heartbeat = true }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task<(IReadOnlyList<string> Destroy, JsonElement Body)> ReportAsync(string worker, DateTime listedAfter, params (string Handle, double Age)[] volumes)
    {
        using var client = orchestrator.ClientFor(worker);
        var response = await client.PutAsync(
            OrchestratorProtocol.ReportPath(worker),
            Json(new { listedAfter = new DateTimeOffset(DateTime.SpecifyKind(listedAfter, DateTimeKind.Utc)), volumes = volumes.Select(v => new { handle = v.Handle, ageSeconds = v.Age }) }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        return ([.. body.GetProperty("destroy").EnumerateArray().Select(e => e.GetString()!)], body);
    }

    private static StringContent Json(object body) => new(JsonSerializer.Serialize(body, VolumeProtocol.Json), Encoding.UTF8, "application/json");
}
