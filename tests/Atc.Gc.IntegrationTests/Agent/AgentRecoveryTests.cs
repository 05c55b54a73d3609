using System.Net;
using System.Net.Http.Json;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Workers;

namespace Atc.Gc.IntegrationTests.Agent;

/// <summary>Deletion and creation survive a crash at any point: the agent finishes them when it starts again.</summary>
public sealed class AgentRecoveryTests
{
    [Fact]
    public async Task Half_created_and_half_deleted_volumes_are_finished_on_restart()
    {
        await using var agent = await AgentInstance.StartAsync("agent-1");
        using var client = agent.Client();
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("volumes", new CreateVolumeRequest("kept"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("volumes", new CreateVolumeRequest("being-deleted"))).StatusCode);

        // A crash mid-create leaves a staging directory; a crash mid-delete leaves the renamed volume in dead/.
        Directory.CreateDirectory(Path.Combine(agent.Root, "creating", "half-made.0123", "data"));
        Directory.Move(Path.Combine(agent.Root, "volumes", "being-deleted"), Path.Combine(agent.Root, "dead", "being-deleted.4567"));
        Directory.CreateDirectory(Path.Combine(agent.Root, "volumes", "stray-without-metadata"));

        Assert.Equal(["kept"], agent.Store.List(withSizes: false).Select(v => v.Handle));

        await agent.RestartAsync();

        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(agent.Root, "creating")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(agent.Root, "dead")));
        Assert.Equal(["kept"], Directory.EnumerateDirectories(Path.Combine(agent.Root, "volumes")).Select(Path.GetFileName));
        using var after = agent.Client();
        Assert.Equal(HttpStatusCode.NotFound, (await after.DeleteAsync("volumes/being-deleted")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await after.GetAsync("volumes/kept")).StatusCode);
    }

    [Fact]
    public async Task A_volume_deleted_concurrently_with_its_creation_of_a_child_fails_cleanly()
    {
        await using var agent = await AgentInstance.StartAsync("agent-1");
        using var client = agent.Client();
        await client.PostAsJsonAsync("volumes", new CreateVolumeRequest("parent"));
        for (var i = 0; i < 200; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(agent.Store.DataPathOf("parent"), $"f{i}"), new string('x', 1000));
        }

        var create = client.PostAsJsonAsync("volumes", new CreateVolumeRequest("child", new VolumeStrategyDto("cow", "parent")));
        var delete = client.DeleteAsync("volumes/parent");
        var (created, deleted) = (await create, await delete);

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Contains(created.StatusCode, new[] { HttpStatusCode.Created, HttpStatusCode.NotFound, HttpStatusCode.InternalServerError });
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(agent.Root, "creating")));
        if (created.StatusCode == HttpStatusCode.Created)
        {
            Assert.Equal(200, Directory.EnumerateFiles(agent.Store.DataPathOf("child")).Count());
        }
    }
}
