using Atc.Gc.Collection;
using Atc.Gc.Database;
using Atc.Gc.Lifecycle;
using Atc.Gc.Model;
using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Atc.Gc.Workers;

/// <summary>What applying a worker's volume report did.</summary>
/// <param name="Destroy">Handles the database does not know, older than the grace: the worker should delete them.</param>
/// <param name="Hold">Why unknown handles were kept instead (the worker is held); null when none were.</param>
/// <param name="Unknown">Unknown handles older than the grace, destroyed or kept.</param>
public sealed record VolumeReportOutcome(
    IReadOnlyList<string> Destroy, int ConfirmedGone, int Missing, int Recovered, DateTimeOffset ServerTime, Guid Installation, string? Hold, int Unknown);

/// <summary>
/// Reconciles the database with what a worker says it holds, in one transaction. A report speaks only
/// of volumes whose last change is older than its <see cref="VolumeReportRequest.ListedAfter"/> — a
/// server time the agent received before it listed its disk — so nothing made after the listing is
/// judged by it:
/// <list type="bullet">
/// <item>destroying volumes neither listed nor being deleted are confirmed gone (their rows deleted:
/// the lifecycle's <see cref="VolumeTrigger.ConfirmDeleted"/>);</item>
/// <item>other volumes not listed are marked missing, or, already missing since before the listing,
/// have one more report counted against them (<c>missing_reports</c>); listed ones lose the mark. The
/// <c>missing-volumes</c> collector forgets an unowned, childless volume after enough reports;</item>
/// <item>listed handles the database does not know for this worker, older than the grace (by the
/// worker's clock), are returned for the worker to delete — unless the worker is held: its agent knew
/// another database, or most of what it listed is unknown here. Then nothing is destroyed, the hold is
/// recorded, logged and counted, and it lasts until an operator adopts the worker.</item>
/// </list>
/// </summary>
public sealed class VolumeReportService(NpgsqlDataSource dataSource, CollectorMetrics? metrics = null, ILogger<VolumeReportService>? logger = null)
{
    /// <summary>A report holds its worker only when at least this many of its handles are unknown (and they are most of them).</summary>
    public const int MinimumUnknownForHold = 2;

    private static readonly VolumeTransition Confirm = VolumeTransitions.For(VolumeTrigger.ConfirmDeleted);
    private static readonly VolumeTransition Forget = VolumeTransitions.For(VolumeTrigger.Forget);
    private readonly ILogger logger = logger ?? NullLogger<VolumeReportService>.Instance;

    /// <summary>Applies a report; null when the worker is not registered.</summary>
    public async Task<VolumeReportOutcome?> ApplyAsync(
        string workerName, VolumeReportRequest report, TimeSpan unknownGrace, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(report);
        WorkerNames.Validate(workerName, nameof(workerName));
        var volumes = report.Volumes ?? [];
        var deleting = report.Deleting ?? [];
        var invalid = volumes.Select(v => v?.Handle).Concat(deleting).FirstOrDefault(h => !HandleFormat.IsValid(h));
        if (invalid is not null || volumes.Any(v => v is null) || deleting.Any(h => h is null))
        {
            HandleFormat.Validate(invalid, nameof(report));
        }

        var parameters = new
        {
            worker = workerName,
            handles = volumes.Select(v => v.Handle).ToArray(),
            ages = volumes.Select(v => v.AgeSeconds).ToArray(),
            deleting = deleting.ToArray(),
            listedAfter = report.ListedAfter,
            graceSeconds = unknownGrace.TotalSeconds,
        };

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var worker = await connection.QuerySingleOrDefaultAsync<WorkerRow>(Sql.Command(
            """
            UPDATE workers SET heartbeat_at = now() WHERE name = @worker
            RETURNING hold, hold_detail, release_unknown, (SELECT id FROM installation) AS installation, now() AS server_time
            """, parameters, cancellationToken, transaction));
        if (worker is null)
        {
            return null;
        }

        var applied = await connection.QuerySingleAsync<AppliedRow>(Sql.Command(ApplyReport, parameters, cancellationToken, transaction));
        var unknown = applied.Unknown ?? [];
        string? hold = worker.Hold is null ? null : worker.HoldDetail;
        if (hold is null && !worker.ReleaseUnknown && unknown.Length >= MinimumUnknownForHold && unknown.Length * 2 > applied.Reported)
        {
            hold = $"{unknown.Length} of the {applied.Reported} volumes its agent reported are unknown to this database";
            await connection.ExecuteAsync(Sql.Command(
                "UPDATE workers SET hold = 'unknown', hold_detail = @hold, held_since = now() WHERE name = @worker",
                new { worker = workerName, hold }, cancellationToken, transaction));
            logger.LogWarning(
                "Worker {Worker} is held: {Hold}. None of its unknown volumes is destroyed until an operator runs 'atc-gc adopt-worker {Worker}'",
                workerName, hold, workerName);
        }

        await connection.ExecuteAsync(Sql.Command(
            "UPDATE workers SET held_unknown = @held, release_unknown = false WHERE name = @worker",
            new { worker = workerName, held = hold is null ? 0 : unknown.Length }, cancellationToken, transaction));
        await transaction.CommitAsync(cancellationToken);

        if (hold is not null && unknown.Length > 0)
        {
            metrics?.UnknownVolumesHeld(workerName, unknown.Length);
        }

        return new VolumeReportOutcome(
            hold is null ? unknown : [], applied.Confirmed, applied.Missing, applied.Recovered, worker.ServerTime, worker.Installation, hold, unknown.Length);
    }

    /// <summary>
    /// One statement: <c>listed</c> is the report's listing time (never later than now; null without
    /// one, and then nothing is confirmed or marked). The sub-statements touch disjoint rows.
    /// </summary>
    private static readonly string ApplyReport =
        $"""
        WITH reported AS (
            SELECT DISTINCT ON (handle) handle, age FROM unnest(@handles::text[], @ages::double precision[]) AS r(handle, age)
        ), present AS (
            SELECT handle FROM reported UNION SELECT unnest(@deleting::text[])
        ), listed AS (
            SELECT CASE WHEN @listedAfter::timestamptz IS NULL THEN NULL ELSE least(@listedAfter::timestamptz, now()) END AS at
        ), confirmed AS (
            DELETE FROM volumes v USING listed l
            WHERE v.worker_name = @worker AND {Confirm.PredicateSql("v")} AND v.state_changed_at < l.at
              AND NOT EXISTS (SELECT 1 FROM present p WHERE p.handle = v.handle)
            RETURNING v.id
        ), newly_missing AS (
            UPDATE volumes v SET missing_since = now(), missing_reports = 1
            FROM listed l
            WHERE v.worker_name = @worker AND {Forget.FromStatesSql("v")} AND v.missing_since IS NULL AND v.state_changed_at < l.at
              AND NOT EXISTS (SELECT 1 FROM reported r WHERE r.handle = v.handle)
            RETURNING v.id
        ), still_missing AS (
            UPDATE volumes v SET missing_reports = v.missing_reports + 1
            FROM listed l
            WHERE v.worker_name = @worker AND {Forget.FromStatesSql("v")} AND v.missing_since < l.at
              AND NOT EXISTS (SELECT 1 FROM reported r WHERE r.handle = v.handle)
            RETURNING v.id
        ), recovered AS (
            UPDATE volumes v SET missing_since = NULL, missing_reports = 0
            WHERE v.worker_name = @worker AND {Forget.FromStatesSql("v")} AND v.missing_since IS NOT NULL
              AND EXISTS (SELECT 1 FROM reported r WHERE r.handle = v.handle)
            RETURNING v.id
        )
        SELECT (SELECT count(*) FROM confirmed)::int AS confirmed,
               (SELECT count(*) FROM newly_missing)::int AS missing,
               (SELECT count(*) FROM recovered)::int AS recovered,
               (SELECT count(*) FROM reported)::int AS reported,
               ARRAY(SELECT r.handle FROM reported r
                     WHERE r.age > @graceSeconds
                       AND NOT EXISTS (SELECT 1 FROM volumes v WHERE v.worker_name = @worker AND v.handle = r.handle)
                     ORDER BY r.handle) AS unknown
        """;

    private sealed class WorkerRow
    {
        public string? Hold { get; init; }

        public string? HoldDetail { get; init; }

        public bool ReleaseUnknown { get; init; }

        public Guid Installation { get; init; }

        public DateTimeOffset ServerTime { get; init; }
    }

    private sealed class AppliedRow
    {
        public int Confirmed { get; init; }

        public int Missing { get; init; }

        public int Recovered { get; init; }

        public int Reported { get; init; }

        public string[]? Unknown { get; init; }
    }
}
