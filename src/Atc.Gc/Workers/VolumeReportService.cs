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
/// The rows go into a temporary table by binary COPY as they are read (<see cref="VolumeReportReader"/>),
/// so a large report is never held in memory; reported sizes are stored on the volumes. Acknowledgements
/// (<see cref="ConfirmGoneAsync"/>) only confirm destroying volumes gone, by handle.
/// </summary>
public sealed class VolumeReportService(NpgsqlDataSource dataSource, CollectorMetrics? metrics = null, ILogger<VolumeReportService>? logger = null)
{
    /// <summary>A report holds its worker only when at least this many of its handles are unknown (and they are most of them).</summary>
    public const int MinimumUnknownForHold = 2;

    private static readonly VolumeTransition Confirm = VolumeTransitions.For(VolumeTrigger.ConfirmDeleted);
    private static readonly VolumeTransition Forget = VolumeTransitions.For(VolumeTrigger.Forget);
    private readonly ILogger logger = logger ?? NullLogger<VolumeReportService>.Instance;

    /// <summary>At most this many unknown handles are answered in one report's <c>destroy</c>; the next report answers more.</summary>
    public const int MaxDestroyPerReport = 10_000;

    /// <summary>Applies a report; null when the worker is not registered.</summary>
    public async Task<VolumeReportOutcome?> ApplyAsync(
        string workerName, VolumeReportRequest report, TimeSpan unknownGrace, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(report);
        var volumes = report.Volumes ?? [];
        var deleting = report.Deleting ?? [];
        var invalid = volumes.Select(v => v?.Handle).Concat(deleting).FirstOrDefault(h => !HandleFormat.IsValid(h));
        if (invalid is not null || volumes.Any(v => v is null) || deleting.Any(h => h is null))
        {
            HandleFormat.Validate(invalid, nameof(report));
        }

        return await ApplyAsync(workerName, async (sink, ct) =>
        {
            foreach (var volume in volumes)
            {
                await sink.ReportedAsync(volume.Handle, volume.AgeSeconds, volume.SizeBytes, ct);
            }

            foreach (var handle in deleting)
            {
                await sink.DeletingAsync(handle, ct);
            }

            return report.ListedAfter;
        }, unknownGrace, cancellationToken);
    }

    /// <summary>
    /// Applies a report whose rows <paramref name="read"/> hands to a sink as it reads them (a request
    /// body, streamed) and which returns the report's <c>listedAfter</c>; null when the worker is not
    /// registered (then nothing is read). Whatever <paramref name="read"/> throws leaves everything unchanged.
    /// </summary>
    public async Task<VolumeReportOutcome?> ApplyAsync(
        string workerName, Func<IVolumeReportSink, CancellationToken, Task<DateTimeOffset?>> read, TimeSpan unknownGrace, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(read);
        WorkerNames.Validate(workerName, nameof(workerName));
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (!await connection.ExecuteScalarAsync<bool>(Sql.Command(
                "SELECT EXISTS (SELECT 1 FROM workers WHERE name = @worker)", new { worker = workerName }, cancellationToken)))
        {
            return null;
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(Sql.Command(
            "CREATE TEMPORARY TABLE reported_rows (handle text NOT NULL, age double precision NOT NULL, size_bytes bigint, deleting boolean NOT NULL) ON COMMIT DROP",
            null, cancellationToken, transaction));
        DateTimeOffset? listedAfter;
        long rows;
        await using (var importer = await connection.BeginBinaryImportAsync(
                         "COPY reported_rows (handle, age, size_bytes, deleting) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            var sink = new CopySink(importer);
            listedAfter = await read(sink, cancellationToken);
            rows = sink.Rows;
            await importer.CompleteAsync(cancellationToken);
        }

        if (rows > 1000)
        {
            // The planner knows nothing of a fresh temporary table; a large report deserves a real plan.
            await connection.ExecuteAsync(Sql.Command("ANALYZE reported_rows", null, cancellationToken, transaction));
        }

        var parameters = new
        {
            worker = workerName,
            listedAfter,
            graceSeconds = unknownGrace.TotalSeconds,
            maxDestroy = MaxDestroyPerReport,
        };
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
        if (applied.Sized + applied.Recovered + applied.Missing > 0)
        {
            // The rows this report updated stay locked until it commits, and a pass running meanwhile
            // skips them (SKIP LOCKED) — an orphan among them would wait for the next interval. The
            // notification is delivered at commit: another pass follows once they are free.
            await connection.ExecuteAsync(Sql.Command(
                "SELECT pg_notify(@channel, 'volume report')", new { channel = Collection.CollectionSignal.Channel }, cancellationToken, transaction));
        }

        var unknown = applied.Unknown ?? [];
        var unknownCount = applied.UnknownCount;
        string? hold = worker.Hold is null ? null : worker.HoldDetail;
        if (hold is null && !worker.ReleaseUnknown && unknownCount >= MinimumUnknownForHold && unknownCount * 2 > applied.Reported)
        {
            hold = $"{unknownCount} of the {applied.Reported} volumes its agent reported are unknown to this database";
            await connection.ExecuteAsync(Sql.Command(
                "UPDATE workers SET hold = 'unknown', hold_detail = @hold, held_since = now() WHERE name = @worker",
                new { worker = workerName, hold }, cancellationToken, transaction));
            logger.LogWarning(
                "Worker {Worker} is held: {Hold}. None of its unknown volumes is destroyed until an operator runs 'atc-gc adopt-worker {Worker}'",
                workerName, hold, workerName);
        }

        await connection.ExecuteAsync(Sql.Command(
            "UPDATE workers SET held_unknown = @held, release_unknown = false WHERE name = @worker",
            new { worker = workerName, held = hold is null ? 0 : unknownCount }, cancellationToken, transaction));
        await transaction.CommitAsync(cancellationToken);

        if (hold is not null && unknownCount > 0)
        {
            metrics?.UnknownVolumesHeld(workerName, unknownCount);
        }

        return new VolumeReportOutcome(
            hold is null ? unknown : [], applied.Confirmed, applied.Missing, applied.Recovered, worker.ServerTime, worker.Installation, hold, unknownCount);
    }

    /// <summary>
    /// An acknowledgement: the worker removed the data of <paramref name="handles"/>. Destroying volumes of
    /// this worker among them are confirmed gone (their rows deleted); nothing else is touched — missing
    /// marks come only from full reports. Its cost follows the handles, not the worker's volumes.
    /// Null when the worker is not registered.
    /// </summary>
    public async Task<(int ConfirmedGone, DateTimeOffset ServerTime)?> ConfirmGoneAsync(
        string workerName, IReadOnlyList<string> handles, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handles);
        WorkerNames.Validate(workerName, nameof(workerName));
        var invalid = handles.FirstOrDefault(h => !HandleFormat.IsValid(h));
        if (invalid is not null || handles.Any(h => h is null))
        {
            HandleFormat.Validate(invalid, nameof(handles));
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleAsync<GoneRow>(Sql.Command(ConfirmGone, new { worker = workerName, handles = handles.ToArray() }, cancellationToken));
        return row.Known ? (row.Confirmed, row.ServerTime) : null;
    }

    private static readonly string ConfirmGone =
        $"""
        WITH confirmed AS (
            DELETE FROM volumes v
            WHERE v.worker_name = @worker AND v.handle = ANY(@handles) AND {Confirm.PredicateSql("v")}
            RETURNING v.id
        )
        SELECT EXISTS (SELECT 1 FROM workers WHERE name = @worker) AS known,
               (SELECT count(*) FROM confirmed)::int AS confirmed,
               now() AS server_time
        """;

    /// <summary>
    /// One statement over the report's rows (<c>reported_rows</c>): <c>listed</c> is the report's listing
    /// time (never later than now; null without one, and then nothing is confirmed or marked). The
    /// sub-statements touch disjoint rows; sizes are written only where they changed.
    /// </summary>
    private static readonly string ApplyReport =
        $"""
        WITH reported AS (
            SELECT DISTINCT ON (handle) handle, age, size_bytes FROM reported_rows WHERE NOT deleting
        ), present AS (
            SELECT handle FROM reported_rows
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
            UPDATE volumes v SET missing_since = NULL, missing_reports = 0, size_bytes = coalesce(r.size_bytes, v.size_bytes)
            FROM reported r
            WHERE v.worker_name = @worker AND v.handle = r.handle AND {Forget.FromStatesSql("v")} AND v.missing_since IS NOT NULL
            RETURNING v.id
        ), sized AS (
            UPDATE volumes v SET size_bytes = r.size_bytes
            FROM reported r
            WHERE v.worker_name = @worker AND v.handle = r.handle AND r.size_bytes IS NOT NULL AND v.size_bytes IS DISTINCT FROM r.size_bytes
              AND NOT ({Forget.FromStatesSql("v")} AND v.missing_since IS NOT NULL)
            RETURNING v.id
        ), unknown AS (
            SELECT r.handle FROM reported r
            WHERE r.age > @graceSeconds
              AND NOT EXISTS (SELECT 1 FROM volumes v WHERE v.worker_name = @worker AND v.handle = r.handle)
        )
        SELECT (SELECT count(*) FROM confirmed)::int AS confirmed,
               (SELECT count(*) FROM newly_missing)::int AS missing,
               (SELECT count(*) FROM recovered)::int AS recovered,
               (SELECT count(*) FROM sized)::int AS sized,
               (SELECT count(*) FROM reported)::int AS reported,
               (SELECT count(*) FROM unknown)::int AS unknown_count,
               ARRAY(SELECT handle FROM unknown ORDER BY handle LIMIT @maxDestroy) AS unknown
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

        public int Sized { get; init; }

        public int Reported { get; init; }

        public int UnknownCount { get; init; }

        public string[]? Unknown { get; init; }
    }

    private sealed class GoneRow
    {
        public bool Known { get; init; }

        public int Confirmed { get; init; }

        public DateTimeOffset ServerTime { get; init; }
    }

    /// <summary>Writes a report's rows into the COPY of <c>reported_rows</c> as they come.</summary>
    private sealed class CopySink(NpgsqlBinaryImporter importer) : IVolumeReportSink
    {
        public long Rows { get; private set; }

        public async ValueTask ReportedAsync(string handle, double ageSeconds, long? sizeBytes, CancellationToken cancellationToken)
        {
            await importer.StartRowAsync(cancellationToken);
            await importer.WriteAsync(handle, NpgsqlTypes.NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(ageSeconds, NpgsqlTypes.NpgsqlDbType.Double, cancellationToken);
            if (sizeBytes is { } size)
            {
                await importer.WriteAsync(size, NpgsqlTypes.NpgsqlDbType.Bigint, cancellationToken);
            }
            else
            {
                await importer.WriteNullAsync(cancellationToken);
            }

            await importer.WriteAsync(false, NpgsqlTypes.NpgsqlDbType.Boolean, cancellationToken);
            Rows++;
        }

        public async ValueTask DeletingAsync(string handle, CancellationToken cancellationToken)
        {
            await importer.StartRowAsync(cancellationToken);
            await importer.WriteAsync(handle, NpgsqlTypes.NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(0d, NpgsqlTypes.NpgsqlDbType.Double, cancellationToken);
            await importer.WriteNullAsync(cancellationToken);
            await importer.WriteAsync(true, NpgsqlTypes.NpgsqlDbType.Boolean, cancellationToken);
            Rows++;
        }
    }
}
