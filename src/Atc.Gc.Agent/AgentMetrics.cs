using System.Diagnostics.Metrics;
using Atc.Gc.Telemetry;
using Atc.Gc.Workers;

namespace Atc.Gc.Agent;

/// <summary>
/// The agent's meter, <c>Atc.Gc.Agent</c> (served at <c>/metrics</c>): creates and deletes with their
/// outcome and duration, bytes freed by deletes, leftovers waiting for removal and failed removals,
/// loop failures, volumes and bytes held, the disk's capacity and free space.
/// </summary>
internal sealed class AgentMetrics : IDisposable
{
    public const string MeterName = "Atc.Gc.Agent";

    private readonly Meter meter = new(MeterName);
    private readonly Counter<long> removalFailures;
    private readonly Counter<long> loopFailures;
    private readonly Counter<long> volumesDeleted;
    private readonly Counter<long> bytesDeleted;
    private readonly Counter<long> creates;
    private readonly Counter<long> deletes;
    private readonly Histogram<double> createDuration;
    private readonly Histogram<double> deleteDuration;

    public AgentMetrics()
    {
        removalFailures = meter.CreateCounter<long>("atc_gc.agent.removal_failures", description: "Removals of a volume's data (or a leftover) that failed and will be retried");
        loopFailures = meter.CreateCounter<long>("atc_gc.agent.loop_failures", description: "Rounds of a background loop that failed");
        volumesDeleted = meter.CreateCounter<long>("atc_gc.agent.volumes_deleted", description: "Volumes taken out of the listing by a delete");
        bytesDeleted = meter.CreateCounter<long>("atc_gc.agent.deleted_bytes", "By", "Bytes the deleted volumes took, as last measured");
        creates = meter.CreateCounter<long>("atc_gc.agent.creates", "{request}", "Volume creates, by outcome (created, or why not)");
        deletes = meter.CreateCounter<long>("atc_gc.agent.deletes", "{volume}", "Volume deletes, by outcome (deleted, pending, not_found, failed)");
        createDuration = meter.CreateSecondsHistogram("atc_gc.agent.create.duration", "Duration of a volume create, by outcome");
        deleteDuration = meter.CreateSecondsHistogram("atc_gc.agent.delete.duration", "Duration of one volume's delete (within the delete budget), by outcome");
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

    /// <summary>A volume was taken out of the listing; it took <paramref name="bytes"/> as last measured.</summary>
    public void Deleted(long bytes)
    {
        volumesDeleted.Add(1);
        bytesDeleted.Add(bytes);
    }

    public void CreateEnded(string outcome, TimeSpan duration)
    {
        var tag = new KeyValuePair<string, object?>("atc_gc.outcome", outcome);
        creates.Add(1, tag);
        createDuration.Record(duration.TotalSeconds, tag);
    }

    public void DeleteEnded(DestroyOutcome outcome, TimeSpan duration)
    {
        var tag = new KeyValuePair<string, object?>("atc_gc.outcome", OutcomeLabel(outcome));
        deletes.Add(1, tag);
        deleteDuration.Record(duration.TotalSeconds, tag);
    }

    private static string OutcomeLabel(DestroyOutcome outcome) => outcome switch
    {
        DestroyOutcome.Deleted => "deleted",
        DestroyOutcome.Pending => "pending",
        DestroyOutcome.NotFound => "not_found",
        _ => "failed",
    };

    public void Dispose() => meter.Dispose();
}
