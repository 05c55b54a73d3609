using System.Net;
using System.Net.Http.Json;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Workers;

namespace Atc.Gc.IntegrationTests.Agent;

/// <summary>
/// A volume whose data cannot be removed (an immutable file) gets its own answer in a destroy batch, is
/// never answered as gone while its data is on disk, shows in the agent's health, and is removed by
/// the reaper once it can be.
/// </summary>
public sealed class UndeletableVolumeTests
{
    [AsRootFact("makes a file immutable (chattr +i), which only root can")]
    public async Task An_undeletable_volume_is_pending_not_gone_and_the_rest_of_its_batch_is_deleted()
    {
        await using var agent = await AgentInstance.StartAsync("agent-1");
        using var client = agent.Client();
        try
        {
            await CreateAsync(client, "vol-ok");
            await CreateAsync(client, "vol-stuck");
            await Immutable.CreateAsync(Path.Combine(agent.Store.DataPathOf("vol-stuck"), "pinned"));

            var first = await client.PostAsJsonAsync("volumes/destroy", new DestroyVolumesRequest(["vol-ok", "vol-stuck"]), VolumeProtocol.Json);

            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            var results = (await first.Content.ReadFromJsonAsync<DestroyVolumesResponse>(VolumeProtocol.Json))!.Results.ToDictionary(r => r.Handle);
            Assert.Contains(results["vol-ok"].Outcome, new[] { DestroyOutcome.Deleted, DestroyOutcome.Pending });
            Assert.Equal(DestroyOutcome.Pending, results["vol-stuck"].Outcome);

            // Asked again (the collector retries): its data is still on disk, so it is still not gone.
            var again = await client.DeleteAsync("volumes/vol-stuck");
            var batchAgain = await client.PostAsJsonAsync("volumes/destroy", new DestroyVolumesRequest(["vol-stuck", "vol-ok"]), VolumeProtocol.Json);

            Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
            var second = (await batchAgain.Content.ReadFromJsonAsync<DestroyVolumesResponse>(VolumeProtocol.Json))!.Results.ToDictionary(r => r.Handle);
            Assert.Equal(DestroyOutcome.Pending, second["vol-stuck"].Outcome);
            Assert.Single(Directory.EnumerateFiles(agent.Root, "pinned", SearchOption.AllDirectories));
            await Eventually.TrueAsync(async () => (await HealthAsync(agent)).Contains("vol-stuck", StringComparison.Ordinal), "the agent's health names the leftover");
            Assert.Contains("not permitted", await HealthAsync(agent), StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            await Immutable.ReleaseAllAsync(agent.Root, "pinned");
        }

        // Once it can be removed, the reaper removes it; then it is gone for good.
        await Eventually.TrueAsync(() => !Directory.EnumerateFileSystemEntries(Path.Combine(agent.Root, "dead")).Any(), "the reaper removed the leftover");
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync("volumes/vol-stuck")).StatusCode);
        Assert.DoesNotContain("vol-stuck", await HealthAsync(agent), StringComparison.Ordinal);
    }

    [AsRootFact("makes a file immutable (chattr +i), which only root can")]
    public async Task A_single_delete_of_an_undeletable_volume_answers_202_not_500()
    {
        await using var agent = await AgentInstance.StartAsync("agent-1");
        using var client = agent.Client();
        try
        {
            await CreateAsync(client, "vol-stuck");
            await Immutable.CreateAsync(Path.Combine(agent.Store.DataPathOf("vol-stuck"), "pinned"));

            var response = await client.DeleteAsync("volumes/vol-stuck");

            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            Assert.Empty(Directory.EnumerateDirectories(Path.Combine(agent.Root, "volumes")));
        }
        finally
        {
            await Immutable.ReleaseAllAsync(agent.Root, "pinned");
        }
    }

    internal static async Task<string> HealthAsync(AgentInstance agent)
    {
        using var anonymous = new HttpClient { BaseAddress = agent.BaseUrl };
        return await anonymous.GetStringAsync("health");
    }

    private static async Task CreateAsync(HttpClient client, string handle)
    {
        var response = await client.PostAsJsonAsync("volumes", new CreateVolumeRequest(handle));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }
}
