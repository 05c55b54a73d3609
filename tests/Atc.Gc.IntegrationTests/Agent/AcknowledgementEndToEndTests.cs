using System.Net;
using System.Net.Http.Json;
using Atc.Gc.Collection;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Scheduling;
using Atc.Gc.Workers;
using Microsoft.Extensions.DependencyInjection;

namespace Atc.Gc.IntegrationTests.Agent;

/// <summary>A real orchestrator and agent: a volume whose data outlived its delete is confirmed gone as soon as the reaper removes it.</summary>
public sealed class AcknowledgementEndToEndTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [AsRootFact("makes a file immutable (chattr +i), which only root can")]
    public async Task A_volume_answered_pending_is_confirmed_gone_by_the_acknowledgement_without_another_pass_or_report()
    {
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource);
        await using var agent = await AgentInstance.StartAsync("w1", orchestrator: orchestrator.BaseUrl, extra: new Dictionary<string, string?>
        {
            ["Agent:ReportInterval"] = "01:00:00",
            ["Agent:ReaperBackoff"] = "00:00:00.100",
        });
        await Eventually.TrueAsync(async () => await Store.Workers.FindAsync("w1") is not null, "the agent registered");
        var container = await Given.ContainerAsync("w1");
        var volume = (await Store.Volumes.CreateAsync("w1", VolumeOwners.Container(container.Id))).Volume!;
        using (var client = agent.Client())
        {
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("volumes", new CreateVolumeRequest(volume.Handle))).StatusCode);
        }

        await Store.Volumes.MarkCreatedAsync(volume.Id);
        await Immutable.CreateAsync(Path.Combine(agent.Store.DataPathOf(volume.Handle), "pinned"));
        try
        {
            await Given.ReleaseContainerAsync(container.Id);
            var pass = await orchestrator.Services.GetRequiredService<GarbageCollector>().RunPassAsync(PassRequest.Complete);

            Assert.Equal(1, pass.Of("destroying-volumes").Details[$"pending:w1"]);
            Assert.NotNull(await Store.Volumes.FindAsync(volume.Id));
        }
        finally
        {
            await Immutable.ReleaseAllAsync(agent.Root, "pinned");
        }

        await Eventually.TrueAsync(async () => await Store.Volumes.FindAsync(volume.Id) is null, "the acknowledgement confirmed the volume gone");
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(agent.Root, "dead")));
    }
}
