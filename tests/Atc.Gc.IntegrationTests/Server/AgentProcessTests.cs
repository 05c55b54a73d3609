using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Atc.Gc.Collection;
using Atc.Gc.Hosting;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Lifecycle;
using Atc.Gc.Scheduling;
using Atc.Gc.Workers;
using Microsoft.Extensions.DependencyInjection;

namespace Atc.Gc.IntegrationTests.Server;

/// <summary>The agent as its own process (atc-gc worker), killed and restarted.</summary>
public sealed class AgentProcessTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task A_killed_agent_keeps_its_volumes_destroying_and_they_are_reclaimed_when_it_is_back()
    {
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource);
        var root = Directory.CreateTempSubdirectory("atc-gc-agent-process-").FullName;
        var port = Loopback.FreePort();
        var token = WorkerTokens.Derive(CollectorHarness.Secret, "w1", 0);
        string[] arguments =
        [
            "worker", "--name", "w1", "--root", root, "--listen", $"http://127.0.0.1:{port}",
            "--orchestrator", orchestrator.BaseUrl.ToString(), "--heartbeat-interval", "500ms", "--report-interval", "1h",
        ];
        var environment = new Dictionary<string, string?> { ["ATC_GC_WORKER_TOKEN"] = token };
        try
        {
            await using var agent = AtcGcProcess.Start(arguments, environment);
            await Eventually.TrueAsync(async () => await Store.Workers.FindAsync("w1") is not null, "the agent process registered", TimeSpan.FromSeconds(30), () => agent.Output);
            var handles = await CreateVolumesAsync(port, token, 3);

            await agent.KillAsync();
            await Given.ExecuteAsync("UPDATE volumes SET container_id = NULL");
            var collector = orchestrator.Services.GetRequiredService<GarbageCollector>();
            var whileDown = await collector.RunPassAsync(PassRequest.Complete);

            Assert.Equal(3, whileDown.Of("destroying-volumes").Details["failed:w1"]);
            Assert.Equal(3, await Given.ScalarAsync<int>("SELECT count(*) FROM volumes WHERE state = 'destroying' AND delete_attempts = 1"));
            Assert.All(handles, h => Assert.True(Directory.Exists(Path.Combine(root, "volumes", h))));

            await using var restarted = AtcGcProcess.Start(arguments, environment);
            using (var probe = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(1) })
            {
                await Eventually.TrueAsync(() => Loopback.IsHealthyAsync(probe), "the restarted agent answers", TimeSpan.FromSeconds(30), () => restarted.Output);
            }
            await Given.ExecuteAsync("UPDATE volumes SET claim_expires_at = NULL");
            var afterRestart = await collector.RunPassAsync(PassRequest.Complete);

            Assert.Equal(3, afterRestart.Of("destroying-volumes").Changed);
            Assert.All(handles, h => Assert.False(Directory.Exists(Path.Combine(root, "volumes", h))));
            Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM volumes"));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private async Task<IReadOnlyList<string>> CreateVolumesAsync(int port, string token, int count)
    {
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var container = await Given.ContainerAsync("w1");
        var handles = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var volume = (await Store.Volumes.CreateAsync("w1", VolumeOwners.Container(container.Id))).Volume!;
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("volumes", new CreateVolumeRequest(volume.Handle))).StatusCode);
            foreach (var trigger in Scenario.PathTo(VolumeState.Initialized))
            {
                await Store.Volumes.TransitionAsync(volume.Id, trigger);
            }

            handles.Add(volume.Handle);
        }

        return handles;
    }
}
