using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Workers;

namespace Atc.Gc.IntegrationTests.Agent;

/// <summary><c>Agent:MaxBytes</c> caps what the volumes may take: it is the capacity the agent reports, and a create past it is refused with 507.</summary>
public sealed class DiskCapTests
{
    [Fact]
    public async Task A_create_past_the_cap_is_refused_with_507_and_the_cap_is_the_reported_capacity()
    {
        await using var agent = await AgentInstance.StartAsync("w1", extra: new Dictionary<string, string?> { ["Agent:MaxBytes"] = "1048576" });
        using var client = agent.Client();
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("volumes", new CreateVolumeRequest("vol-a"))).StatusCode);
        await File.WriteAllBytesAsync(Path.Combine(agent.Store.DataPathOf("vol-a"), "content.bin"), new byte[2 * 1024 * 1024]);
        var measured = await client.GetFromJsonAsync<VolumeDto>("volumes/vol-a", VolumeProtocol.Json);

        var refused = await client.PostAsJsonAsync("volumes", new CreateVolumeRequest("vol-b"));

        Assert.True(measured!.SizeBytes >= 2 * 1024 * 1024);
        await AgentApiTests.AssertProblemAsync(refused, HttpStatusCode.InsufficientStorage, "Agent:MaxBytes");
        var disk = JsonDocument.Parse(await UndeletableVolumeTests.HealthAsync(agent)).RootElement.GetProperty("disk");
        Assert.Equal(1048576, disk.GetProperty("capacityBytes").GetInt64());
        Assert.Equal(0, disk.GetProperty("freeBytes").GetInt64());
        Assert.True(disk.GetProperty("volumesBytes").GetInt64() >= 2 * 1024 * 1024);
    }
}
