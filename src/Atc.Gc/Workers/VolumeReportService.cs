using Atc.Gc.Database;
using Atc.Gc.Lifecycle;
using Atc.Gc.Model;
using Dapper;
using Npgsql;

namespace Atc.Gc.Workers;

/// <summary>What applying a worker's volume report did.</summary>
/// <param name="Destroy">Handles the database does not know, older than the grace: the worker should delete them.</param>
public sealed record VolumeReportOutcome(IReadOnlyList<string> Destroy, int ConfirmedGone, int Missing, int Recovered);

/// <summary>
/// Reconciles the database with what a worker says it holds. In one transaction: destroying
/// volumes the worker no longer has are confirmed gone (their rows deleted: the lifecycle's
/// <see cref="VolumeTrigger.ConfirmDeleted"/>); other known volumes it did not report (except those
/// still being created) are marked missing, and reported ones lose that mark; handles it reported
/// that the database does not know — and that are older than the grace, so a volume whose row is
/// being created is never raced — are returned for the worker to delete. Missing volumes are
/// forgotten later by the <c>missing-volumes</c> collector.
/// </summary>
public sealed class VolumeReportService(NpgsqlDataSource dataSource)
{
    private static readonly VolumeTransition Confirm = VolumeTransitions.For(VolumeTrigger.ConfirmDeleted);
    private static readonly VolumeTransition Forget = VolumeTransitions.For(VolumeTrigger.Forget);

    /// <summary>Applies a report; null when the worker is not registered.</summary>
    public async Task<VolumeReportOutcome?> ApplyAsync(
        string workerName, IReadOnlyList<ReportedVolumeDto> volumes, TimeSpan unknownGrace, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(volumes);
        WorkerNames.Validate(workerName, nameof(workerName));
        var invalid = volumes.FirstOrDefault(v => !HandleFormat.IsValid(v.Handle));
        if (invalid is not null)
        {
            HandleFormat.Validate(invalid.Handle, nameof(volumes));
        }

        var parameters = new
        {
            worker = workerName,
            handles = volumes.Select(v => v.Handle).ToArray(),
            ages = volumes.Select(v => v.AgeSeconds).ToArray(),
            graceSeconds = unknownGrace.TotalSeconds,
        };

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var known = await connection.ExecuteAsync(Sql.Command(
            "UPDATE workers SET heartbeat_at = now() WHERE name = @worker", parameters, cancellationToken, transaction));
        if (known == 0)
        {
            return null;
        }

        await connection.ExecuteAsync(Sql.Command(
            "CREATE TEMP TABLE reported (handle text PRIMARY KEY, age_seconds double precision) ON COMMIT DROP",
            null, cancellationToken, transaction));
        await connection.ExecuteAsync(Sql.Command(
            """
            INSERT INTO reported (handle, age_seconds)
            SELECT DISTINCT ON (handle) handle, age FROM unnest(@handles::text[], @ages::double precision[]) AS r(handle, age)
            """, parameters, cancellationToken, transaction));

        var confirmed = await connection.ExecuteAsync(Sql.Command(ConfirmUnreportedDestroying, parameters, cancellationToken, transaction));
        var missing = await connection.ExecuteAsync(Sql.Command(MarkUnreportedMissing, parameters, cancellationToken, transaction));
        var recovered = await connection.ExecuteAsync(Sql.Command(ClearReportedMissing, parameters, cancellationToken, transaction));
        var unknown = (await connection.QueryAsync<string>(Sql.Command(FindUnknownHandles, parameters, cancellationToken, transaction))).AsList();
        await transaction.CommitAsync(cancellationToken);
        return new VolumeReportOutcome(unknown, confirmed, missing, recovered);
    }

    private static readonly string ConfirmUnreportedDestroying =
        $"""
        DELETE FROM volumes v
        WHERE v.worker_name = @worker AND {Confirm.PredicateSql("v")}
          AND NOT EXISTS (SELECT 1 FROM reported r WHERE r.handle = v.handle)
        """;

    private static readonly string MarkUnreportedMissing =
        $"""
        UPDATE volumes v SET missing_since = now()
        WHERE v.worker_name = @worker AND {Forget.FromStatesSql("v")} AND v.missing_since IS NULL
          AND NOT EXISTS (SELECT 1 FROM reported r WHERE r.handle = v.handle)
        """;

    private const string ClearReportedMissing =
        """
        UPDATE volumes v SET missing_since = NULL
        WHERE v.worker_name = @worker AND v.missing_since IS NOT NULL
          AND EXISTS (SELECT 1 FROM reported r WHERE r.handle = v.handle)
        """;

    private const string FindUnknownHandles =
        """
        SELECT r.handle FROM reported r
        WHERE r.age_seconds > @graceSeconds
          AND NOT EXISTS (SELECT 1 FROM volumes v WHERE v.worker_name = @worker AND v.handle = r.handle)
        ORDER BY r.handle
        """;
}
