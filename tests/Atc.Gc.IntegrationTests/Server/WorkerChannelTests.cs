using System.Net;
using System.Net.Http.Json;
using Atc.Gc.Inspection;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Lifecycle;
using Atc.Gc.Workers;

namespace Atc.Gc.IntegrationTests.Server;

/// <summary>
/// What the orchestrator takes from its workers beyond full reports: acknowledgements of removed data
/// (which confirm destroying volumes gone and do nothing else), disk figures with heartbeats, sizes with reports.
/// </summary>
public sealed class WorkerChannelTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    private OrchestratorInstance orchestrator = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource);
    }

    public override async Task DisposeAsync() => await orchestrator.DisposeAsync();

    [Fact]
    public async Task An_acknowledgement_confirms_only_this_workers_destroying_volumes_and_marks_nothing_missing()
    {
        await RegisterAsync("w1");
        await RegisterAsync("w2");
        var destroying = await Given.DestroyingAsync("w1");
        var live = await Given.VolumeAsync(VolumeState.Initialized, "w1");
        var elsewhere = await Given.DestroyingAsync("w2");
        using var client = orchestrator.ClientFor("w1");

        var response = await client.PostAsJsonAsync(
            OrchestratorProtocol.GonePath("w1"), new VolumesGoneRequest([destroying.Handle, live.Handle, elsewhere.Handle, "never-known"]), VolumeProtocol.Json);
        var body = await response.Content.ReadFromJsonAsync<VolumesGoneResponse>(VolumeProtocol.Json);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, body!.ConfirmedGone);
        Assert.NotNull(body.ServerTime);
        Assert.Null(await Store.Volumes.FindAsync(destroying.Id));
        Assert.NotNull(await Store.Volumes.FindAsync(elsewhere.Id));
        var kept = await Store.Volumes.FindAsync(live.Id);
        Assert.Equal(VolumeState.Initialized, kept!.State);
        Assert.Null(kept.MissingSince);
    }

    [Fact]
    public async Task An_acknowledgement_with_a_bad_handle_or_from_an_unknown_worker_is_refused()
    {
        await RegisterAsync("w1");
        using var client = orchestrator.ClientFor("w1");
        using var ghost = orchestrator.ClientFor("ghost");

        var bad = await client.PostAsJsonAsync(OrchestratorProtocol.GonePath("w1"), new VolumesGoneRequest(["../x"]), VolumeProtocol.Json);
        var tooMany = await client.PostAsJsonAsync(
            OrchestratorProtocol.GonePath("w1"), new VolumesGoneRequest([.. Enumerable.Range(0, 1001).Select(i => $"h{i}")]), VolumeProtocol.Json);
        var unknown = await ghost.PostAsJsonAsync(OrchestratorProtocol.GonePath("ghost"), new VolumesGoneRequest(["a"]), VolumeProtocol.Json);

        await Agent.AgentApiTests.AssertProblemAsync(bad, HttpStatusCode.BadRequest, "not a valid handle");
        await Agent.AgentApiTests.AssertProblemAsync(tooMany, HttpStatusCode.BadRequest, "at most 1000");
        await Agent.AgentApiTests.AssertProblemAsync(unknown, HttpStatusCode.NotFound, "not registered");
    }

    [Fact]
    public async Task A_heartbeats_disk_figures_and_a_reports_sizes_are_stored_and_listed()
    {
        using var client = orchestrator.ClientFor("w1");
        var registered = await client.PutAsJsonAsync(
            OrchestratorProtocol.WorkerPath("w1"), new RegisterWorkerRequest("http://127.0.0.1:7788/", Disk: new WorkerDiskDto(1000_000, 400_000, 250_000)), VolumeProtocol.Json);
        Assert.Equal(HttpStatusCode.OK, registered.StatusCode);
        var volume = await Given.VolumeAsync(VolumeState.Initialized, "w1");
        var listedAfter = new DateTimeOffset(DateTime.SpecifyKind(await Given.ScalarAsync<DateTime>("SELECT now()"), DateTimeKind.Utc));

        var report = await client.PutAsJsonAsync(
            OrchestratorProtocol.ReportPath("w1"), new VolumeReportRequest([new(volume.Handle, 100, 123_456)], listedAfter), VolumeProtocol.Json);
        var heartbeatWithout = await client.PutAsJsonAsync(OrchestratorProtocol.WorkerPath("w1"), new RegisterWorkerRequest("http://127.0.0.1:7788/", Heartbeat: true), VolumeProtocol.Json);

        Assert.Equal(HttpStatusCode.OK, report.StatusCode);
        Assert.Equal(HttpStatusCode.OK, heartbeatWithout.StatusCode);
        var inspector = new Inspector(DataSource);
        var worker = Assert.Single(await inspector.WorkersAsync());
        Assert.Equal((1000_000L, 400_000L, 250_000L), (worker.DiskCapacityBytes!.Value, worker.DiskFreeBytes!.Value, worker.DiskVolumesBytes!.Value));
        Assert.Equal(123_456, (await inspector.VolumeAsync(volume.Handle))!.SizeBytes);
    }

    private async Task RegisterAsync(string worker)
    {
        using var client = orchestrator.ClientFor(worker);
        var response = await client.PutAsJsonAsync(OrchestratorProtocol.WorkerPath(worker), new RegisterWorkerRequest("http://127.0.0.1:7788/"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
