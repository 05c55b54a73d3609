using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Atc.Gc.IntegrationTests.DiskPressure;

/// <summary>
/// A real orchestrator and one real agent ("w1") whose volumes may take at most <c>maxBytes</c> and
/// whose sizes are measured every 200 ms, registered; and the scheduler's <see cref="WorkerVolumes"/>.
/// </summary>
public sealed class PressuredWorker : IAsyncDisposable
{
    private readonly ServiceProvider scheduler;

    private PressuredWorker(OrchestratorInstance orchestrator, AgentInstance agent, ServiceProvider scheduler)
    {
        Orchestrator = orchestrator;
        Agent = agent;
        this.scheduler = scheduler;
    }

    public OrchestratorInstance Orchestrator { get; }

    public AgentInstance Agent { get; }

    public WorkerVolumes Volumes => scheduler.GetRequiredService<WorkerVolumes>();

    /// <summary>Fills a volume with <paramref name="bytes"/> zero bytes, as a fetch would.</summary>
    public PopulateVolume Fetch(int bytes) =>
        (volume, _, ct) => File.WriteAllBytesAsync(Path.Combine(Agent.Store.DataPathOf(volume.Handle), "blob"), new byte[bytes], ct);

    /// <param name="quiet">The orchestrator collects only when the test asks (else in the background, as configured).</param>
    public static async Task<PressuredWorker> StartAsync(
        NpgsqlDataSource dataSource, AtcGcStore store, long maxBytes, Dictionary<string, string?> collector, bool quiet)
    {
        var orchestrator = quiet
            ? await OrchestratorInstance.StartQuietAsync(dataSource, collector)
            : await OrchestratorInstance.StartAsync(dataSource, collector);
        var agent = await AgentInstance.StartAsync("w1", orchestrator: orchestrator.BaseUrl, extra: new Dictionary<string, string?>
        {
            ["Agent:MaxBytes"] = $"{maxBytes}",
            ["Agent:SizeInterval"] = "00:00:00.200",
        });
        await Eventually.TrueAsync(async () => await store.Workers.FindAsync("w1") is not null, "the agent registered");
        return new PressuredWorker(orchestrator, agent, SchedulerVolumes.Provider(dataSource));
    }

    public async ValueTask DisposeAsync()
    {
        await scheduler.DisposeAsync();
        await Orchestrator.DisposeAsync();
        await Agent.DisposeAsync();
    }
}
