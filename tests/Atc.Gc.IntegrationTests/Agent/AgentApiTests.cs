using System.Net;
using System.Net.Http.Json;
using System.Text;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Workers;

namespace Atc.Gc.IntegrationTests.Agent;

/// <summary>The worker agent's volume API over real HTTP, with real directories.</summary>
public sealed class AgentApiTests : IAsyncLifetime
{
    private AgentInstance agent = null!;
    private HttpClient client = null!;

    public async Task InitializeAsync()
    {
        agent = await AgentInstance.StartAsync("agent-1");
        client = agent.Client();
    }

    public async Task DisposeAsync()
    {
        client.Dispose();
        await agent.DisposeAsync();
    }

    [Fact]
    public async Task Creating_an_empty_volume_makes_a_directory_and_lists_it()
    {
        var response = await client.PostAsJsonAsync("volumes", new CreateVolumeRequest("vol-a", new VolumeStrategyDto("empty"), new Dictionary<string, string> { ["k"] = "v" }));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.True(Directory.Exists(agent.Store.DataPathOf("vol-a")));
        var listed = await client.GetFromJsonAsync<VolumeListResponse>("volumes", VolumeProtocol.Json);
        var volume = Assert.Single(listed!.Volumes);
        Assert.Equal("vol-a", volume.Handle);
        Assert.Equal("v", volume.Properties["k"]);
    }

    [Fact]
    public async Task A_copy_on_write_child_starts_with_its_parents_content_and_diverges_from_it()
    {
        await CreateAsync("parent");
        await File.WriteAllTextAsync(Path.Combine(agent.Store.DataPathOf("parent"), "input.txt"), "fetched content");
        Directory.CreateDirectory(Path.Combine(agent.Store.DataPathOf("parent"), "nested"));
        await File.WriteAllTextAsync(Path.Combine(agent.Store.DataPathOf("parent"), "nested", "deep.txt"), "deep");

        var response = await client.PostAsJsonAsync("volumes", new CreateVolumeRequest("child", new VolumeStrategyDto("cow", "parent")));
        await File.WriteAllTextAsync(Path.Combine(agent.Store.DataPathOf("child"), "input.txt"), "changed by the container");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("deep", await File.ReadAllTextAsync(Path.Combine(agent.Store.DataPathOf("child"), "nested", "deep.txt")));
        Assert.Equal("fetched content", await File.ReadAllTextAsync(Path.Combine(agent.Store.DataPathOf("parent"), "input.txt")));
        var child = await client.GetFromJsonAsync<VolumeDto>("volumes/child", VolumeProtocol.Json);
        Assert.Equal("parent", child!.Parent);
        Assert.True(child.SizeBytes > 0);
    }

    [Fact]
    public async Task A_child_of_a_missing_parent_is_refused_with_404()
    {
        var response = await client.PostAsJsonAsync("volumes", new CreateVolumeRequest("child", new VolumeStrategyDto("cow", "nobody")));

        await AssertProblemAsync(response, HttpStatusCode.NotFound, "parent volume 'nobody' does not exist");
        Assert.Empty(agent.Store.List(withSizes: false));
    }

    [Fact]
    public async Task Creating_a_handle_twice_is_a_conflict()
    {
        await CreateAsync("vol-a");

        var again = await client.PostAsJsonAsync("volumes", new CreateVolumeRequest("vol-a"));

        await AssertProblemAsync(again, HttpStatusCode.Conflict, "already exists");
    }

    [Fact]
    public async Task Deleting_is_idempotent_204_then_404_and_removes_the_directory()
    {
        await CreateAsync("vol-a");

        var first = await client.DeleteAsync("volumes/vol-a");
        var second = await client.DeleteAsync("volumes/vol-a");

        Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, second.StatusCode);
        Assert.False(Directory.Exists(Path.GetDirectoryName(agent.Store.DataPathOf("vol-a"))));
    }

    [Fact]
    public async Task A_batch_destroy_answers_per_handle()
    {
        await CreateAsync("vol-a");
        await CreateAsync("vol-b");

        var response = await client.PostAsJsonAsync("volumes/destroy", new DestroyVolumesRequest(["vol-a", "vol-b", "never-existed"]), VolumeProtocol.Json);
        var body = await response.Content.ReadFromJsonAsync<DestroyVolumesResponse>(VolumeProtocol.Json);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(
            [("vol-a", DestroyOutcome.Deleted), ("vol-b", DestroyOutcome.Deleted), ("never-existed", DestroyOutcome.NotFound)],
            body!.Results.Select(r => (r.Handle, r.Outcome)));
        Assert.Empty(agent.Store.List(withSizes: false));
    }

    [Theory]
    [InlineData("../../etc")]
    [InlineData("..")]
    [InlineData("a/b")]
    [InlineData(".hidden")]
    public async Task Path_traversal_handles_are_refused_everywhere_and_nothing_is_touched(string handle)
    {
        var outside = Path.Combine(Path.GetDirectoryName(agent.Root)!, "etc");
        var create = await client.PostAsJsonAsync("volumes", new CreateVolumeRequest(handle));
        var get = await client.GetAsync($"volumes/{Uri.EscapeDataString(handle)}");
        var delete = await client.DeleteAsync($"volumes/{Uri.EscapeDataString(handle)}");
        var destroy = await client.PostAsJsonAsync("volumes/destroy", new DestroyVolumesRequest([handle]), VolumeProtocol.Json);
        var cow = await client.PostAsJsonAsync("volumes", new CreateVolumeRequest("ok", new VolumeStrategyDto("cow", handle)));

        foreach (var response in new[] { create, destroy, cow })
        {
            await AssertProblemAsync(response, HttpStatusCode.BadRequest, "not a valid handle");
        }

        // In a path, dot segments may be normalized away before the route is matched; either way the answer is a 4xx.
        Assert.All(new[] { get, delete }, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.BadRequest, HttpStatusCode.NotFound, HttpStatusCode.MethodNotAllowed }));

        Assert.False(Directory.Exists(outside));
        Assert.Empty(agent.Store.List(withSizes: false));
    }

    [Fact]
    public async Task A_handle_longer_than_the_limit_is_refused()
    {
        var response = await client.PostAsJsonAsync("volumes", new CreateVolumeRequest(new string('a', 129)));

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "not a valid handle");
    }

    [Fact]
    public async Task An_oversized_body_is_refused_with_413_and_nothing_is_created()
    {
        var huge = new CreateVolumeRequest("vol-a", Properties: new Dictionary<string, string> { ["blob"] = new string('x', 100_000) });

        var body = new StringContent(System.Text.Json.JsonSerializer.Serialize(huge, VolumeProtocol.Json), Encoding.UTF8, "application/json");

        var response = await client.PostAsync("volumes", body);

        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "larger than the limit");
        Assert.Empty(agent.Store.List(withSizes: false));
    }

    [Theory]
    [InlineData("{\"handle\":")]
    [InlineData("[1,2,3]")]
    [InlineData("null")]
    public async Task A_malformed_body_is_refused_with_a_problem_saying_so(string body)
    {
        var response = await client.PostAsync("volumes", new StringContent(body, Encoding.UTF8, "application/json"));

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "JSON");
        Assert.Empty(agent.Store.List(withSizes: false));
    }

    [Fact]
    public async Task An_unknown_strategy_is_refused()
    {
        var response = await client.PostAsJsonAsync("volumes", new CreateVolumeRequest("vol-a", new VolumeStrategyDto("magic")));

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "unknown strategy 'magic'");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not-the-token")]
    public async Task A_missing_or_wrong_token_gets_401_and_changes_nothing(string? token)
    {
        await CreateAsync("vol-a");
        using var intruder = new HttpClient { BaseAddress = agent.BaseUrl };
        if (token is not null)
        {
            intruder.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        await AssertProblemAsync(await intruder.DeleteAsync("volumes/vol-a"), HttpStatusCode.Unauthorized, "token");
        await AssertProblemAsync(await intruder.PostAsJsonAsync("volumes", new CreateVolumeRequest("vol-b")), HttpStatusCode.Unauthorized, "token");
        await AssertProblemAsync(await intruder.GetAsync("volumes"), HttpStatusCode.Unauthorized, "token");

        Assert.Equal(["vol-a"], agent.Store.List(withSizes: false).Select(v => v.Handle));
    }

    [Fact]
    public async Task The_token_of_another_worker_is_refused()
    {
        using var other = agent.Client(WorkerTokens.Derive(CollectorHarness.Secret, "agent-2", 0));

        await AssertProblemAsync(await other.GetAsync("volumes"), HttpStatusCode.Unauthorized, "not this worker's");
    }

    [Fact]
    public async Task Health_answers_without_a_token()
    {
        using var anonymous = new HttpClient { BaseAddress = agent.BaseUrl };

        var response = await anonymous.GetAsync("health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Live_and_ready_answer_without_a_token_and_ready_is_the_agents_health()
    {
        using var anonymous = new HttpClient { BaseAddress = agent.BaseUrl };

        var live = await anonymous.GetAsync("health/live");
        var ready = await anonymous.GetStringAsync("health/ready");

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Contains("\"driver\"", ready, StringComparison.Ordinal);
        Assert.Contains("\"status\":\"healthy\"", ready, StringComparison.Ordinal);
    }

    private async Task CreateAsync(string handle)
    {
        var response = await client.PostAsJsonAsync("volumes", new CreateVolumeRequest(handle));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    internal static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string detailContains)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<Dictionary<string, object>>();
        Assert.Contains(detailContains, problem!["detail"].ToString(), StringComparison.Ordinal);
    }
}
