using System.Net;
using System.Security.Cryptography.X509Certificates;
using Atc.Gc.Collection;
using Atc.Gc.Hosting;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Lifecycle;
using Atc.Gc.Scheduling;
using Atc.Gc.Workers;
using Microsoft.Extensions.DependencyInjection;

namespace Atc.Gc.IntegrationTests.Security;

/// <summary>
/// The worker channel over HTTPS with a certificate authority made in the test: the orchestrator and
/// an <c>atc-gc worker</c> process serve HTTPS from Kestrel's configuration, each trusts the given
/// authority alone, and a volume is created and collected across it. A side that trusts another
/// authority gets nowhere.
/// </summary>
public sealed class TlsChannelTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task An_agent_process_registers_over_https_and_the_collector_deletes_its_volume_over_https()
    {
        using var certificates = TestCertificates.Create();
        await using var orchestrator = await OrchestratorInstance.StartAsync(DataSource, new Dictionary<string, string?>(certificates.KestrelSettings)
        {
            ["Orchestrator:Listen"] = "https://127.0.0.1:0",
            ["Workers:CaFile"] = certificates.CaFile,
        });
        Assert.Equal("https", orchestrator.BaseUrl.Scheme);
        var port = Loopback.FreePort();
        var root = Directory.CreateTempSubdirectory("atc-gc-tls-agent-").FullName;
        await using var agent = AtcGcProcess.Start(
            ["worker", "--name", "w1", "--root", root, "--listen", $"https://127.0.0.1:{port}", "--orchestrator", orchestrator.BaseUrl.ToString(), "--heartbeat-interval", "500ms", "--report-interval", "1s"],
            new Dictionary<string, string?>
            {
                ["ATC_GC_WORKER_TOKEN"] = WorkerTokens.Derive(CollectorHarness.Secret, "w1", 0),
                ["Kestrel__Certificates__Default__Path"] = certificates.ServerPfx,
                ["Kestrel__Certificates__Default__Password"] = TestCertificates.Password,
                ["Agent__OrchestratorCaFile"] = certificates.CaFile,
            });

        await Eventually.TrueAsync(
            async () => (await Store.Workers.FindAsync("w1"))?.BaseUrl == new Uri($"https://127.0.0.1:{port}/"),
            "the agent registered with its https address", TimeSpan.FromSeconds(60), () => agent.Output);
        var container = await Given.ContainerAsync("w1");
        var volume = (await Store.Volumes.CreateAsync("w1", VolumeOwners.Container(container.Id))).Volume!;
        var endpoint = new WorkerEndpoint("w1", new Uri($"https://127.0.0.1:{port}/"), 0);
        var created = await orchestrator.Services.GetRequiredService<IWorkerVolumeClient>().CreateAsync(endpoint, new CreateVolumeRequest(volume.Handle), CancellationToken.None);
        Assert.True(created.Outcome == WorkerCreateOutcome.Created, created.Error);
        foreach (var trigger in Scenario.PathTo(VolumeState.Initialized))
        {
            Assert.True((await Store.Volumes.TransitionAsync(volume.Id, trigger)).Succeeded);
        }

        using (var client = TrustingClient(certificates.CaFile, endpoint.BaseUrl))
        {
            client.DefaultRequestHeaders.Authorization = new("Bearer", WorkerTokens.Derive(CollectorHarness.Secret, "w1", 0));
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"volumes/{volume.Handle}")).StatusCode);
        }

        await Given.ReleaseContainerAsync(container.Id);
        await orchestrator.Services.GetRequiredService<GarbageCollector>().RunPassAsync(PassRequest.Complete);

        await Eventually.TrueAsync(async () => await Given.ScalarAsync<int>("SELECT count(*) FROM volumes") == 0, "the volume was deleted over https", TimeSpan.FromSeconds(30));
        using (var client = TrustingClient(certificates.CaFile, endpoint.BaseUrl))
        {
            client.DefaultRequestHeaders.Authorization = new("Bearer", WorkerTokens.Derive(CollectorHarness.Secret, "w1", 0));
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"volumes/{volume.Handle}")).StatusCode);
        }
    }

    [Fact]
    public async Task An_agent_trusting_another_authority_does_not_register_with_the_orchestrator()
    {
        using var certificates = TestCertificates.Create();
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource, new Dictionary<string, string?>(certificates.KestrelSettings)
        {
            ["Orchestrator:Listen"] = "https://127.0.0.1:0",
        });
        await using var agent = await AgentInstance.StartAsync("w1", orchestrator: orchestrator.BaseUrl, extra: new Dictionary<string, string?>
        {
            ["Agent:OrchestratorCaFile"] = certificates.OtherCaFile,
        });

        await Task.Delay(TimeSpan.FromSeconds(3));

        Assert.Null(await Store.Workers.FindAsync("w1"));
    }

    [Fact]
    public async Task The_collector_trusting_another_authority_does_not_delete_on_an_https_agent()
    {
        using var certificates = TestCertificates.Create();
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource, new Dictionary<string, string?>
        {
            ["Workers:CaFile"] = certificates.OtherCaFile,
            ["Workers:Retries"] = "0",
        });
        var settings = new Dictionary<string, string?>(certificates.KestrelSettings);
        await using var agent = await AgentInstance.StartAsync("w1", listen: "https://127.0.0.1:0", extra: settings);
        await Store.Workers.RegisterAsync(new WorkerRegistration("w1", agent.BaseUrl, []));
        var volume = await Given.DestroyingAsync("w1");

        await orchestrator.Services.GetRequiredService<GarbageCollector>().RunPassAsync(PassRequest.Complete);

        Assert.Equal(VolumeState.Destroying, (await Store.Volumes.FindAsync(volume.Id))!.State);
        var error = await Given.ScalarAsync<string>("SELECT last_delete_error FROM volumes WHERE id = @id", new { id = volume.Id });
        Assert.Contains("SSL", error, StringComparison.OrdinalIgnoreCase);
    }

    private static HttpClient TrustingClient(string caFile, Uri baseUrl)
    {
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(caFile);
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, chain, _) =>
            {
                chain!.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(roots);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(certificate!);
            },
        };
        return new HttpClient(handler) { BaseAddress = baseUrl };
    }
}
