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

        Assert.Equal(["kept", "stray-without-metadata"], Directory.EnumerateDirectories(Path.Combine(agent.Root, "volumes")).Select(Path.GetFileName).Order());

        await agent.RestartAsync();

        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(agent.Root, "creating")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(agent.Root, "dead")));
        Assert.Equal(["kept"], Directory.EnumerateDirectories(Path.Combine(agent.Root, "volumes")).Select(Path.GetFileName));
        Assert.Equal(["kept"], agent.Store.List().Select(v => v.Handle));
        using var after = agent.Client();
        Assert.Equal(HttpStatusCode.NotFound, (await after.DeleteAsync("volumes/being-deleted")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await after.GetAsync("volumes/kept")).StatusCode);
    }

    [Fact]
    public async Task A_parent_deleted_while_a_child_of_it_is_made_is_either_refused_or_deleted_first_never_half_copied()
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

        // Whichever came first: the child was made whole and its parent kept (409), or the parent was deleted and the child refused.
        Assert.Contains((created.StatusCode, deleted.StatusCode), new[] { (HttpStatusCode.Created, HttpStatusCode.Conflict), (HttpStatusCode.NotFound, HttpStatusCode.NoContent) });
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(agent.Root, "creating")));
        if (created.StatusCode == HttpStatusCode.Created)
        {
            Assert.Equal(200, Directory.EnumerateFiles(agent.Store.DataPathOf("child")).Count());
            Assert.Equal(200, Directory.EnumerateFiles(agent.Store.DataPathOf("parent")).Count());
        }
    }
}
