using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Workers;

namespace Atc.Gc.IntegrationTests.Agent;

/// <summary>A volume's size counts what is in it: symbolic links are not followed (a link to <c>..</c> or to <c>/etc</c> adds nothing).</summary>
public sealed class VolumeSizeTests
{
    [Fact]
    public async Task Sizes_never_follow_symbolic_links_and_a_listing_answers_at_once()
    {
        await using var agent = await AgentInstance.StartAsync("agent-1");
        using var client = agent.Client();
        client.Timeout = TimeSpan.FromSeconds(15);
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("volumes", new CreateVolumeRequest("linked"))).StatusCode);
        var data = agent.Store.DataPathOf("linked");
        await File.WriteAllBytesAsync(Path.Combine(data, "content.bin"), new byte[10_000]);
        File.CreateSymbolicLink(Path.Combine(data, "up"), "..");
        File.CreateSymbolicLink(Path.Combine(data, "self"), ".");
        File.CreateSymbolicLink(Path.Combine(data, "etc"), "/etc");

        var clock = Stopwatch.StartNew();
        var listed = await client.GetFromJsonAsync<VolumeListResponse>("volumes", VolumeProtocol.Json);
        var one = await client.GetFromJsonAsync<VolumeDto>("volumes/linked", VolumeProtocol.Json);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the listing took {clock.Elapsed}");
        Assert.InRange(one!.SizeBytes, 10_000, 64 * 1024);
        Assert.InRange(Assert.Single(listed!.Volumes).SizeBytes, 0, 64 * 1024);
    }
}
