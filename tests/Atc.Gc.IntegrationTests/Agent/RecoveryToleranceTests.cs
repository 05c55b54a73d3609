using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Workers;

namespace Atc.Gc.IntegrationTests.Agent;

/// <summary>
/// An agent starts whatever its directory holds: a leftover it cannot remove (yet) is logged, shown in
/// its health and retried in the background — it never keeps the agent from starting.
/// </summary>
public sealed class RecoveryToleranceTests
{
    [AsRootFact("makes a file immutable (chattr +i), which only root can")]
    public async Task An_undeletable_leftover_does_not_keep_the_agent_from_starting_and_is_removed_once_it_can_be()
    {
        await using var agent = await AgentInstance.StartAsync("agent-1");
        var grave = Path.Combine(agent.Root, "dead", "stuck.0123", "data");
        Directory.CreateDirectory(grave);
        try
        {
            await Immutable.CreateAsync(Path.Combine(grave, "pinned"));

            await agent.RestartAsync();

            using var client = agent.Client();
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("volumes")).StatusCode);
            Assert.Contains("stuck", await UndeletableVolumeTests.HealthAsync(agent), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.Accepted, (await client.DeleteAsync("volumes/stuck")).StatusCode);
        }
        finally
        {
            await Immutable.ReleaseAllAsync(agent.Root, "pinned");
        }

        await Eventually.TrueAsync(() => !Directory.EnumerateFileSystemEntries(Path.Combine(agent.Root, "dead")).Any(), "the reaper removed the leftover");
    }

    [Fact]
    public async Task A_half_made_volume_still_being_written_does_not_keep_the_agent_from_starting()
    {
        await using var agent = await AgentInstance.StartAsync("agent-1");
        var staging = Path.Combine(agent.Root, "creating", "half-made.0123", "data");
        Directory.CreateDirectory(staging);

        // What a copy that outlived its agent does: it keeps writing into the staging directory (relative to it, so it follows a rename).
        using var writer = Process.Start(new ProcessStartInfo("sh", ["-c", "i=0; while :; do i=$((i+1)); mkdir -p d$i && echo x > d$i/f; done"])
        {
            WorkingDirectory = staging,
            UseShellExecute = false,
        })!;
        try
        {
            await Task.Delay(200);

            await agent.RestartAsync();

            using var client = agent.Client();
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("volumes")).StatusCode);
        }
        finally
        {
            writer.Kill();
            await writer.WaitForExitAsync();
        }

        await Eventually.TrueAsync(
            () => !Directory.EnumerateFileSystemEntries(Path.Combine(agent.Root, "creating")).Any()
                  && !Directory.EnumerateFileSystemEntries(Path.Combine(agent.Root, "dead")).Any(),
            "the leftover was removed once nothing wrote into it");
    }

    [AsRootFact("mounts overlay children and detaches them, as a reboot would")]
    public async Task A_child_that_cannot_be_mounted_again_is_kept_listed_and_named_and_the_agent_starts()
    {
        await using var agent = await AgentInstance.StartAsync("agent-1", extra: new Dictionary<string, string?> { ["Agent:Driver"] = "overlay" });
        using (var client = agent.Client())
        {
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("volumes", new CreateVolumeRequest("parent"))).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("volumes", new CreateVolumeRequest("child", new VolumeStrategyDto("cow", "parent")))).StatusCode);
        }

        // A reboot, and someone removed the parent's layer behind the agent's back.
        Atc.Gc.Agent.AgentDirectory.Remove(Path.Combine(agent.Root, "volumes", "child", "data"));
        Directory.CreateDirectory(Path.Combine(agent.Root, "volumes", "child", "data"));
        Directory.Delete(Path.Combine(agent.Root, "volumes", "parent", "data"), recursive: true);

        await agent.RestartAsync();

        using var after = agent.Client();
        var listed = await after.GetFromJsonAsync<VolumeListResponse>("volumes", VolumeProtocol.Json);
        Assert.Contains("child", listed!.Volumes.Select(v => v.Handle));
        var health = await UndeletableVolumeTests.HealthAsync(agent);
        Assert.Contains("cannot mount", health, StringComparison.Ordinal);
        Assert.Contains("\"status\":\"degraded\"", health, StringComparison.Ordinal);
        await AgentApiTests.AssertProblemAsync(
            await after.PostAsJsonAsync("volumes", new CreateVolumeRequest("grandchild", new VolumeStrategyDto("cow", "child"))), HttpStatusCode.Conflict, "not usable");
        Assert.Equal(HttpStatusCode.NoContent, (await after.DeleteAsync("volumes/child")).StatusCode);
    }
}
