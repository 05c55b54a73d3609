using System.Diagnostics;
using System.Net;
using Atc.Gc.IntegrationTests.Infrastructure;

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
}
