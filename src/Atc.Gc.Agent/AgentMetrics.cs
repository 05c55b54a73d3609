using System.Diagnostics.Metrics;

namespace Atc.Gc.Agent;

/// <summary>
/// The agent's meter, <c>Atc.Gc.Agent</c> (served at <c>/metrics</c>): leftovers waiting for removal and
/// failed removals, loop failures, volumes and bytes held, the disk's capacity and free space.
/// </summary>
internal sealed class AgentMetrics : IDisposable
{
    public const string MeterName = "Atc.Gc.Agent";

    private readonly Meter meter = new(MeterName);
    private readonly Counter<long> removalFailures;
    private readonly Counter<long> loopFailures;
    private readonly Counter<long> volumesDeleted;

    public AgentMetrics()
    {
        removalFailures = meter.CreateCounter<long>("atc_gc.agent.removal_failures", description: "Removals of a volume's data (or a leftover) that failed and will be retried");
        loopFailures = meter.CreateCounter<long>("atc_gc.agent.loop_failures", description: "Rounds of a background loop that failed");
        volumesDeleted = meter.CreateCounter<long>("atc_gc.agent.volumes_deleted", description: "Volumes taken out of the listing by a delete");
    }

    /// <summary>Registers the gauges read from the agent's state.</summary>
    public void Observe(Func<long> leftovers, Func<long> volumes, Func<long> volumeBytes, Func<(long Capacity, long Free)> disk)
    {
        ArgumentNullException.ThrowIfNull(disk);
        meter.CreateObservableGauge("atc_gc.agent.leftovers", leftovers, description: "Directories in dead/ waiting for removal");
        meter.CreateObservableGauge("atc_gc.agent.volumes", volumes, description: "Volumes held");
        meter.CreateObservableGauge("atc_gc.agent.volume_bytes", volumeBytes, unit: "By", description: "Bytes the volumes take, as last measured");
        meter.CreateObservableGauge("atc_gc.agent.disk_capacity", () => disk().Capacity, unit: "By", description: "Capacity for volumes: the filesystem's, or Agent:MaxBytes when smaller");
        meter.CreateObservableGauge("atc_gc.agent.disk_free", () => disk().Free, unit: "By", description: "Free space for volumes");
    }

    public void RemovalFailed() => removalFailures.Add(1);

    public void LoopFailed(string loop) => loopFailures.Add(1, new KeyValuePair<string, object?>("atc_gc.loop", loop));

    public void Deleted(int count) => volumesDeleted.Add(count);

    public void Dispose() => meter.Dispose();
}
