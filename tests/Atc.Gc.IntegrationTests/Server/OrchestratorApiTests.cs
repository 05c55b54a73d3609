using System.Net;
using System.Net.Http.Json;
using System.Text;
using Atc.Gc.IntegrationTests.Agent;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Lifecycle;
using Atc.Gc.Model;
using Atc.Gc.Scheduling;
using Atc.Gc.Workers;

namespace Atc.Gc.IntegrationTests.Server;

/// <summary>The orchestrator's API for worker agents, over real HTTP, against the real database.</summary>
public sealed class OrchestratorApiTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    private OrchestratorInstance orchestrator = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        orchestrator = await OrchestratorInstance.StartAsync(DataSource);
    }

    public override async Task DisposeAsync() => await orchestrator.DisposeAsync();

    [Fact]
    public async Task A_worker_registers_with_its_token_and_its_base_resource_types()
    {
        using var client = orchestrator.ClientFor("w1");

        var response = await client.PutAsJsonAsync(OrchestratorProtocol.WorkerPath("w1"), new RegisterWorkerRequest("http://127.0.0.1:7788/", [new("git", "git-image", "2.1")]));
        var worker = await response.Content.ReadFromJsonAsync<WorkerDto>(VolumeProtocol.Json);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("running", worker!.State);
        Assert.Equal([new ResourceTypeDto("git", "git-image", "2.1")], worker.ResourceTypes);
        Assert.Equal("2.1", await Given.ScalarAsync<string>("SELECT version FROM worker_base_resource_types WHERE worker_name = 'w1'"));
    }

    [Fact]
    public async Task A_worker_cannot_register_heartbeat_or_report_for_another_worker()
    {
        await RegisterAsync("victim");
        var before = await Given.ScalarAsync<DateTime>("SELECT heartbeat_at FROM workers WHERE name = 'victim'");
        using var impostor = orchestrator.ClientFor("victim", WorkerTokens.Derive(CollectorHarness.Secret, "impostor", 0));

        var register = await impostor.PutAsJsonAsync(OrchestratorProtocol.WorkerPath("victim"), new RegisterWorkerRequest("http://10.0.0.66:1/"));
        var report = await impostor.PutAsJsonAsync(OrchestratorProtocol.ReportPath("victim"), new VolumeReportRequest([]));
        var retire = await impostor.PostAsync(OrchestratorProtocol.RetirePath("victim"), null);

        foreach (var response in new[] { register, report, retire })
        {
            await AgentApiTests.AssertProblemAsync(response, HttpStatusCode.Unauthorized, "own name");
        }

        Assert.Equal("http://127.0.0.1:7788/", await Given.ScalarAsync<string>("SELECT base_url FROM workers WHERE name = 'victim'"));
        Assert.Equal("running", await Given.ScalarAsync<string>("SELECT state::text FROM workers WHERE name = 'victim'"));
        Assert.Equal(before, await Given.ScalarAsync<DateTime>("SELECT heartbeat_at FROM workers WHERE name = 'victim'"));
    }

    [Fact]
    public async Task A_request_without_a_token_is_refused_and_registers_nothing()
    {
        using var anonymous = new HttpClient { BaseAddress = orchestrator.BaseUrl };

        var response = await anonymous.PutAsJsonAsync(OrchestratorProtocol.WorkerPath("w1"), new RegisterWorkerRequest("http://127.0.0.1:7788/"));

        await AgentApiTests.AssertProblemAsync(response, HttpStatusCode.Unauthorized, "Bearer");
        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM workers"));
    }

    [Theory]
    [InlineData("not a url")]
    [InlineData("ftp://127.0.0.1/")]
    public async Task A_bad_base_url_is_refused(string baseUrl)
    {
        using var client = orchestrator.ClientFor("w1");

        var response = await client.PutAsJsonAsync(OrchestratorProtocol.WorkerPath("w1"), new RegisterWorkerRequest(baseUrl));

        await AgentApiTests.AssertProblemAsync(response, HttpStatusCode.BadRequest, "baseUrl");
        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM workers"));
    }

    [Fact]
    public async Task A_report_marks_unreported_volumes_missing_and_clears_the_mark_when_they_come_back()
    {
        await RegisterAsync("w1");
        var present = await Given.VolumeAsync(VolumeState.Initialized, "w1");
        var absent = await Given.VolumeAsync(VolumeState.Initialized, "w1");
        var creating = await Given.VolumeAsync(VolumeState.Creating, "w1");

        var first = await ReportAsync("w1", (present.Handle, 100));
        Assert.Equal(1, first.Missing);
        Assert.NotNull((await Store.Volumes.FindAsync(absent.Id))!.MissingSince);
        Assert.Null((await Store.Volumes.FindAsync(creating.Id))!.MissingSince);

        var second = await ReportAsync("w1", (present.Handle, 100), (absent.Handle, 100));
        Assert.Equal(1, second.Recovered);
        Assert.Null((await Store.Volumes.FindAsync(absent.Id))!.MissingSince);
    }

    [Fact]
    public async Task A_report_without_a_listing_time_marks_and_confirms_nothing()
    {
        await RegisterAsync("w1");
        var absent = await Given.VolumeAsync(VolumeState.Initialized, "w1");
        var destroying = await Given.DestroyingAsync("w1");
        using var client = orchestrator.ClientFor("w1");

        var response = await client.PutAsJsonAsync(OrchestratorProtocol.ReportPath("w1"), new VolumeReportRequest([]), VolumeProtocol.Json);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null((await Store.Volumes.FindAsync(absent.Id))!.MissingSince);
        Assert.NotNull(await Store.Volumes.FindAsync(destroying.Id));
    }

    [Fact]
    public async Task A_destroying_volume_the_worker_is_still_deleting_is_not_confirmed_gone()
    {
        await RegisterAsync("w1");
        var destroying = await Given.DestroyingAsync("w1");
        using var client = orchestrator.ClientFor("w1");
        var listedAfter = new DateTimeOffset(DateTime.SpecifyKind(await Given.ScalarAsync<DateTime>("SELECT now()"), DateTimeKind.Utc));

        var response = await client.PutAsJsonAsync(
            OrchestratorProtocol.ReportPath("w1"), new VolumeReportRequest([], listedAfter, Deleting: [destroying.Handle]), VolumeProtocol.Json);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotNull(await Store.Volumes.FindAsync(destroying.Id));
    }

    [Fact]
    public async Task Destroying_volumes_the_worker_no_longer_reports_are_confirmed_gone()
    {
        await RegisterAsync("w1");
        var destroying = await Given.DestroyingAsync("w1");

        var outcome = await ReportAsync("w1");

        Assert.Equal(1, outcome.ConfirmedGone);
        Assert.Null(await Store.Volumes.FindAsync(destroying.Id));
    }

    [Fact]
    public async Task Unknown_handles_older_than_the_grace_are_returned_for_destruction_and_young_ones_are_not()
    {
        await using var strict = await OrchestratorInstance.StartAsync(DataSource, new Dictionary<string, string?> { ["Orchestrator:UnknownVolumeGrace"] = "00:01:00" });
        await RegisterAsync("w1");
        var known = await Given.VolumeAsync(VolumeState.Initialized, "w1");
        using var client = strict.ClientFor("w1");

        var response = await client.PutAsJsonAsync(
            OrchestratorProtocol.ReportPath("w1"),
            new VolumeReportRequest([new(known.Handle, 3600), new("leftover", 3600), new("just-made", 5)]),
            VolumeProtocol.Json);
        var outcome = await response.Content.ReadFromJsonAsync<VolumeReportResponse>(VolumeProtocol.Json);

        Assert.Equal(["leftover"], outcome!.Destroy);
    }

    [Fact]
    public async Task A_handle_that_lives_on_another_worker_is_unknown_here()
    {
        await RegisterAsync("w1");
        await RegisterAsync("w2");
        var elsewhere = await Given.VolumeAsync(VolumeState.Initialized, "w2");

        var outcome = await ReportAsync("w1", (elsewhere.Handle, 3600));

        Assert.Equal([elsewhere.Handle], outcome.Destroy);
        Assert.Null((await Store.Volumes.FindAsync(elsewhere.Id))!.MissingSince);
    }

    [Fact]
    public async Task A_report_from_an_unregistered_worker_is_404()
    {
        using var client = orchestrator.ClientFor("ghost");

        var response = await client.PutAsJsonAsync(OrchestratorProtocol.ReportPath("ghost"), new VolumeReportRequest([]), VolumeProtocol.Json);

        await AgentApiTests.AssertProblemAsync(response, HttpStatusCode.NotFound, "not registered");
    }

    [Theory]
    [InlineData("{\"volumes\": [{\"handle\": \"../x\", \"ageSeconds\": 1}]}", HttpStatusCode.BadRequest, "not a valid handle")]
    [InlineData("{\"volumes\": [", HttpStatusCode.BadRequest, "not valid JSON")]
    [InlineData("{\"volumes\": 7}", HttpStatusCode.BadRequest, "not valid JSON")]
    public async Task A_bad_report_is_refused_and_changes_nothing(string body, HttpStatusCode status, string detail)
    {
        await RegisterAsync("w1");
        var volume = await Given.VolumeAsync(VolumeState.Initialized, "w1");
        using var client = orchestrator.ClientFor("w1");

        var response = await client.PutAsync(OrchestratorProtocol.ReportPath("w1"), new StringContent(body, Encoding.UTF8, "application/json"));

        await AgentApiTests.AssertProblemAsync(response, status, detail);
        Assert.Null((await Store.Volumes.FindAsync(volume.Id))!.MissingSince);
    }

    [Fact]
    public async Task An_oversized_report_is_refused_with_413_and_changes_nothing()
    {
        await RegisterAsync("w1");
        var volume = await Given.VolumeAsync(VolumeState.Initialized, "w1");
        using var client = orchestrator.ClientFor("w1");
        var huge = new VolumeReportRequest([.. Enumerable.Range(0, 10_000).Select(i => new ReportedVolumeDto($"handle-{i:D10}-{new string('x', 20)}", 1))]);

        var body = new StringContent(System.Text.Json.JsonSerializer.Serialize(huge, VolumeProtocol.Json), Encoding.UTF8, "application/json");

        var response = await client.PutAsync(OrchestratorProtocol.ReportPath("w1"), body);

        await AgentApiTests.AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "larger than the limit");
        Assert.Null((await Store.Volumes.FindAsync(volume.Id))!.MissingSince);
    }

    [Fact]
    public async Task A_worker_can_land_and_retire_itself()
    {
        await RegisterAsync("w1");
        using var client = orchestrator.ClientFor("w1");

        var land = await client.PostAsync(OrchestratorProtocol.LandPath("w1"), null);
        Assert.Equal("landing", (await land.Content.ReadFromJsonAsync<WorkerDto>(VolumeProtocol.Json))!.State);

        var retire = await client.PostAsync(OrchestratorProtocol.RetirePath("w1"), null);
        Assert.Equal("retiring", (await retire.Content.ReadFromJsonAsync<WorkerDto>(VolumeProtocol.Json))!.State);

        await Given.ExecuteAsync("UPDATE workers SET state = 'landed'");
        await AgentApiTests.AssertProblemAsync(await client.PostAsync(OrchestratorProtocol.LandPath("w1"), null), HttpStatusCode.Conflict, "landed");
    }

    [Fact]
    public async Task Health_and_metrics_are_served()
    {
        using var anonymous = new HttpClient { BaseAddress = orchestrator.BaseUrl };
        await orchestrator.WaitForPassesAsync(1);

        var health = await anonymous.GetAsync("health");
        var metrics = await anonymous.GetStringAsync("metrics");

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Contains("\"database\"", await health.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("atc_gc_pass_duration", metrics, StringComparison.Ordinal);
    }

    private async Task RegisterAsync(string worker)
    {
        using var client = orchestrator.ClientFor(worker);
        var response = await client.PutAsJsonAsync(OrchestratorProtocol.WorkerPath(worker), new RegisterWorkerRequest("http://127.0.0.1:7788/"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>A report as an agent sends it: listed after a server time it heard (here: the database's clock now).</summary>
    private async Task<VolumeReportResponse> ReportAsync(string worker, params (string Handle, double Age)[] volumes)
    {
        using var client = orchestrator.ClientFor(worker);
        var listedAfter = new DateTimeOffset(DateTime.SpecifyKind(await Given.ScalarAsync<DateTime>("SELECT now()"), DateTimeKind.Utc));
        var response = await client.PutAsJsonAsync(
            OrchestratorProtocol.ReportPath(worker),
            new VolumeReportRequest([.. volumes.Select(v => new ReportedVolumeDto(v.Handle, v.Age))], listedAfter),
            VolumeProtocol.Json);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<VolumeReportResponse>(VolumeProtocol.Json))!;
    }
}
