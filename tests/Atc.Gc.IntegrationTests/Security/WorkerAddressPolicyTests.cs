using System.Net;
using System.Net.Http.Json;
using Atc.Gc.Collection;
using Atc.Gc.IntegrationTests.Agent;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Lifecycle;
using Atc.Gc.Scheduling;
using Atc.Gc.Workers;
using Microsoft.Extensions.DependencyInjection;

namespace Atc.Gc.IntegrationTests.Security;

/// <summary>
/// Where a worker may be, over real HTTP: registration refuses base URLs with more than a scheme, host
/// and port, and addresses no worker may have (link-local, the orchestrator's own listener); the
/// collector checks the address again when it connects, so a row that points elsewhere (a name that
/// re-resolved, a row written around the API) gets no request and no token.
/// </summary>
public sealed class WorkerAddressPolicyTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Theory]
    [InlineData("http://127.0.0.1:7788/api/internal")]
    [InlineData("http://127.0.0.1:7788/?x=1")]
    [InlineData("http://127.0.0.1:7788/#top")]
    [InlineData("http://admin:secret@127.0.0.1:7788/")]
    [InlineData("ftp://127.0.0.1:7788/")]
    public async Task A_base_url_with_a_path_query_fragment_or_user_is_refused_and_registers_nothing(string baseUrl)
    {
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource);

        using var response = await RegisterAsync(orchestrator, baseUrl);

        await AgentApiTests.AssertProblemAsync(response, HttpStatusCode.BadRequest, "'baseUrl' must be");
        Assert.Null(await Store.Workers.FindAsync("w1"));
    }

    [Theory]
    [InlineData("http://169.254.169.254/")]
    [InlineData("http://169.254.169.254:80/")]
    [InlineData("http://[fe80::1]:7788/")]
    [InlineData("http://0.0.0.0:7788/")]
    public async Task A_link_local_or_unspecified_address_is_refused_and_registers_nothing(string baseUrl)
    {
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource);

        using var response = await RegisterAsync(orchestrator, baseUrl);

        await AgentApiTests.AssertProblemAsync(response, HttpStatusCode.BadRequest, "where no worker may be");
        Assert.Null(await Store.Workers.FindAsync("w1"));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    [InlineData("127.0.0.2")]
    public async Task The_orchestrators_own_listener_is_refused_as_a_worker_address(string host)
    {
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource);

        using var response = await RegisterAsync(orchestrator, $"http://{host}:{orchestrator.BaseUrl.Port}/");

        await AgentApiTests.AssertProblemAsync(response, HttpStatusCode.BadRequest, "denied to workers");
        Assert.Null(await Store.Workers.FindAsync("w1"));
    }

    [Fact]
    public async Task A_worker_on_loopback_at_another_port_is_registered_by_default()
    {
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource);

        using var response = await RegisterAsync(orchestrator, "http://127.0.0.1:7788/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new Uri("http://127.0.0.1:7788/"), (await Store.Workers.FindAsync("w1"))!.BaseUrl);
    }

    [Fact]
    public async Task A_worker_outside_the_allowed_networks_is_refused_at_registration()
    {
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource, new Dictionary<string, string?>
        {
            ["Workers:AllowedNetworks:0"] = "10.20.0.0/16",
        });

        using var outside = await RegisterAsync(orchestrator, "http://127.0.0.1:7788/");
        using var inside = await RegisterAsync(orchestrator, "http://10.20.3.4:7788/", "w2");

        await AgentApiTests.AssertProblemAsync(outside, HttpStatusCode.BadRequest, "not in Workers:AllowedNetworks");
        Assert.Null(await Store.Workers.FindAsync("w1"));
        Assert.Equal(HttpStatusCode.OK, inside.StatusCode);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    public async Task The_collector_does_not_connect_to_a_worker_row_pointing_outside_the_allowed_networks(string host)
    {
        // The row points at loopback (written around the API, as a name that re-resolved would): the
        // connection is refused — for a name, after the client's own lookup — before a byte, with the
        // worker's token, leaves the orchestrator.
        await using var target = await AnsweringServer.StartAsync(context => { context.Response.StatusCode = 204; return Task.CompletedTask; });
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource, new Dictionary<string, string?>
        {
            ["Workers:AllowedNetworks:0"] = "10.20.0.0/16",
        });
        await Store.Workers.RegisterAsync(new WorkerRegistration("w1", new Uri($"http://{host}:{target.BaseUrl.Port}/"), []));
        var volume = await Given.DestroyingAsync("w1");

        await orchestrator.Services.GetRequiredService<GarbageCollector>().RunPassAsync(PassRequest.Complete);

        Assert.Equal(0, target.Requests);
        var error = await Given.ScalarAsync<string>("SELECT last_delete_error FROM volumes WHERE id = @id", new { id = volume.Id });
        Assert.Contains("not in Workers:AllowedNetworks", error, StringComparison.Ordinal);
        Assert.Equal(VolumeState.Destroying, (await Store.Volumes.FindAsync(volume.Id))!.State);
    }

    [Fact]
    public async Task The_collector_does_not_connect_to_a_worker_row_pointing_at_the_orchestrator_itself()
    {
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource);
        await Store.Workers.RegisterAsync(new WorkerRegistration("w1", orchestrator.BaseUrl, []));
        var volume = await Given.DestroyingAsync("w1");

        await orchestrator.Services.GetRequiredService<GarbageCollector>().RunPassAsync(PassRequest.Complete);

        var error = await Given.ScalarAsync<string>("SELECT last_delete_error FROM volumes WHERE id = @id", new { id = volume.Id });
        Assert.Contains("denied to workers", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_agent_whose_advertised_url_has_a_path_does_not_start()
    {
        var failure = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => AgentInstance.StartAsync("w1", extra: new Dictionary<string, string?>
        {
            ["Agent:AdvertiseUrl"] = "http://127.0.0.1:7788/admin",
        }));

        Assert.Contains("Agent:AdvertiseUrl", failure.Message, StringComparison.Ordinal);
    }

    private static async Task<HttpResponseMessage> RegisterAsync(OrchestratorInstance orchestrator, string baseUrl, string name = "w1")
    {
        using var client = orchestrator.ClientFor(name);
        return await client.PutAsJsonAsync(OrchestratorProtocol.WorkerPath(name), new RegisterWorkerRequest(baseUrl), VolumeProtocol.Json);
    }
}
