using Atc.Gc.Database;
using Dapper;
using Npgsql;

namespace Atc.Gc.Telemetry;

/// <summary>Volumes of one worker in one state: how many, how many are missing, and the oldest state change among them.</summary>
public sealed record VolumeGroup(string Worker, string State, long Volumes, long Missing, DateTime OldestChange);

/// <summary>One worker as the database last heard of it: its state, the unknown volumes it holds, its disk as last reported.</summary>
public sealed record WorkerFigures(string Worker, string State, long HeldUnknown, long? DiskVolumesBytes, long? DiskCapacityBytes, long? DiskFreeBytes);

/// <summary>One collector's last run in the cluster (any node).</summary>
public sealed record CollectorRun(string Collector, DateTime? LastFinishedAt, bool Failing);

/// <summary>
/// What the cluster gauges report, read in one round trip: volumes grouped by worker and state (one
/// scan of <c>volumes</c>), the workers, and each collector's last run.
/// </summary>
public sealed record ClusterSnapshot(IReadOnlyList<VolumeGroup> Volumes, IReadOnlyList<WorkerFigures> Workers, IReadOnlyList<CollectorRun> Collectors)
{
    private const string Query = """
        SELECT worker_name AS worker, state::text AS state, count(*) AS volumes,
               count(*) FILTER (WHERE missing_since IS NOT NULL) AS missing, min(state_changed_at) AS oldestchange
          FROM volumes GROUP BY worker_name, state;
        SELECT name AS worker, state::text AS state, held_unknown::bigint AS heldunknown,
               disk_volumes_bytes AS diskvolumesbytes, disk_capacity_bytes AS diskcapacitybytes, disk_free_bytes AS diskfreebytes
          FROM workers;
        SELECT collector, last_finished_at AS lastfinishedat, last_error IS NOT NULL AS failing FROM collector_runs;
        """;

    public static ClusterSnapshot Empty { get; } = new([], [], []);

    /// <summary>Reads a snapshot (synchronously: gauges are observed on the exporter's thread).</summary>
    public static ClusterSnapshot Read(NpgsqlDataSource dataSource)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        using var connection = dataSource.OpenConnection();
        using var results = connection.QueryMultiple(Sql.Command(Query, null, CancellationToken.None));
        return new ClusterSnapshot(
            [.. results.Read<VolumeGroup>()],
            [.. results.Read<WorkerFigures>()],
            [.. results.Read<CollectorRun>()]);
    }
}
