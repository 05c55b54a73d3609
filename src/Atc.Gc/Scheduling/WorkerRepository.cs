using Atc.Gc.Database;
using Atc.Gc.Lifecycle;
using Atc.Gc.Model;
using Dapper;
using Npgsql;

namespace Atc.Gc.Scheduling;

/// <summary>A base resource type a worker provides, at the image and version it has.</summary>
public sealed record BaseResourceTypeVersion(string Name, string Image, string Version);

/// <summary>A worker announcing itself: where its agent listens and which base resource types it has.</summary>
/// <param name="IsHeartbeat">
/// A repeat announcement from an agent that already registered since it started. A heartbeat brings
/// a stalled worker back to running but leaves a landed one landed; only an agent that starts again
/// (registers anew) brings a landed worker back.
/// </param>
/// <param name="KnownInstallation">
/// The database identity (<c>installation.id</c>) the agent registered with before, if any. Another
/// identity means the agent's volumes were recorded in another database: the worker is held (none of
/// its unknown volumes is destroyed) until an operator adopts it.
/// </param>
/// <param name="Disk">The worker's disk for volumes, as its agent reports it with every heartbeat; null leaves the last figures.</param>
/// <param name="TokenGeneration">
/// The token generation the caller's token was checked against (the orchestrator's API sets it). The
/// registration is refused (<see cref="UnauthorizedAccessException"/>, nothing changed) when the
/// worker's generation is another by the time it is written: a prune or a completed retirement that
/// commits between the token check and the registration revokes the token it was checked with.
/// </param>
public sealed record WorkerRegistration(
    string Name,
    Uri? BaseUrl,
    IReadOnlyList<BaseResourceTypeVersion> ResourceTypes,
    bool IsHeartbeat = false,
    Guid? KnownInstallation = null,
    WorkerDisk? Disk = null,
    long? TokenGeneration = null);

/// <summary>A worker's disk for volumes: capacity and free space (within its agent's cap), and what its volumes take, in bytes.</summary>
public sealed record WorkerDisk(long CapacityBytes, long FreeBytes, long VolumesBytes);

/// <summary>Why a worker's unknown volumes are not destroyed, until an operator adopts it (<see cref="WorkerRepository.AdoptAsync"/>).</summary>
/// <param name="Kind"><c>identity</c> (its agent knew another database) or <c>unknown</c> (most volumes it reported are unknown here).</param>
/// <param name="UnknownVolumes">Unknown volumes its last report listed and that were kept.</param>
public sealed record WorkerHold(string Kind, string Detail, DateTimeOffset Since, int UnknownVolumes);

/// <summary>What a registration recorded.</summary>
/// <param name="Installation">This database's identity.</param>
/// <param name="ServerTime">The database's clock at the registration: an agent that lists its volumes after receiving it sends it back with the report (<c>listedAfter</c>).</param>
/// <param name="Trusted">The agent may record <paramref name="Installation"/> as its own: it had none, the same, or an operator adopted it.</param>
public sealed record WorkerRegistrationResult(
    Worker Worker, IReadOnlyList<WorkerBaseResourceType> ResourceTypes, Guid Installation, DateTimeOffset ServerTime, bool Trusted);

/// <summary>A <c>worker_base_resource_types</c> row.</summary>
public sealed record WorkerBaseResourceType(long Id, string WorkerName, string Name, string Image, string Version);

/// <param name="Volumes">Volumes whose rows the cascade removed.</param>
/// <param name="Refusal">Why nothing was pruned.</param>
public sealed record PruneOutcome(bool Pruned, long Volumes, string? Refusal);

public sealed record Worker(
    string Name,
    WorkerState State,
    Uri? BaseUrl,
    DateTimeOffset HeartbeatAt,
    DateTimeOffset RegisteredAt,
    DateTimeOffset StateChangedAt,
    WorkerHold? Hold = null);

/// <summary>Registers workers, records their heartbeats and keeps their base resource types current.</summary>
public sealed class WorkerRepository(NpgsqlDataSource dataSource)
{
    private static readonly RowTransition<WorkerState, WorkerTrigger> Resume = WorkerLifecycle.Definition.For(WorkerTrigger.Resume);
    private static readonly RowTransition<WorkerState, WorkerTrigger> Register = WorkerLifecycle.Definition.For(WorkerTrigger.Register);
    private static readonly RowTransition<WorkerState, WorkerTrigger> Land = WorkerLifecycle.Definition.For(WorkerTrigger.Land);
    private static readonly RowTransition<WorkerState, WorkerTrigger> Retire = WorkerLifecycle.Definition.For(WorkerTrigger.Retire);
    private static readonly RowTransition<WorkerState, WorkerTrigger> Prune = WorkerLifecycle.Definition.For(WorkerTrigger.Prune);

    /// <summary>
    /// A registration brings back a stalled worker, and a landed one unless it is only a heartbeat
    /// (<c>@IsHeartbeat</c>), for the row <c>workers</c> being upserted.
    /// </summary>
    private static readonly string ReturnsOnRegistration =
        $"{Resume.FromStatesSql("workers")} OR ({Register.FromStatesSql("workers")} AND NOT @IsHeartbeat)";

    /// <summary>
    /// Registers (or re-registers) a worker. A base resource type whose image or version changed is
    /// replaced by a new row, which orphans the volumes imported for the old one; a type the worker
    /// no longer has is removed the same way. A stalled worker that registers is running again, and so
    /// is a landed one unless this is only a heartbeat (<see cref="WorkerRegistration.IsHeartbeat"/>).
    /// An agent that knew another database identity holds the worker (see <see cref="WorkerHold"/>).
    /// The worker row returned is the one this transaction wrote.
    /// </summary>
    public async Task<WorkerRegistrationResult> RegisterAsync(
        WorkerRegistration registration, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registration);
        WorkerNames.Validate(registration.Name, nameof(registration));
        var types = registration.ResourceTypes;
        if (types.Any(t => t is null))
        {
            throw new ArgumentException("a base resource type must not be null", nameof(registration));
        }

        foreach (var type in types)
        {
            StorableText.Require(type.Name, "a base resource type's name", 255, nameof(registration));
            StorableText.Require(type.Image, "a base resource type's image", 1024, nameof(registration));
            StorableText.Require(type.Version, "a base resource type's version", 255, nameof(registration));
        }

        var duplicate = types.GroupBy(t => t.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"base resource type '{duplicate.Key}' is listed more than once", nameof(registration));
        }

        if (types.Any(t => string.IsNullOrWhiteSpace(t.Name) || string.IsNullOrWhiteSpace(t.Version) || t.Image is null))
        {
            throw new ArgumentException("every base resource type needs a name, an image and a version", nameof(registration));
        }

        var reported = new
        {
            Worker = registration.Name,
            BaseUrl = registration.BaseUrl?.ToString(),
            registration.IsHeartbeat,
            Known = registration.KnownInstallation,
            Capacity = registration.Disk is { } disk ? Math.Max(0, disk.CapacityBytes) : (long?)null,
            Free = registration.Disk is { } free ? Math.Max(0, free.FreeBytes) : (long?)null,
            Used = registration.Disk is { } used ? Math.Max(0, used.VolumesBytes) : (long?)null,
            Names = types.Select(t => t.Name).ToArray(),
            Images = types.Select(t => t.Image).ToArray(),
            Versions = types.Select(t => t.Version).ToArray(),
        };

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // The database's identity; made anew if someone removed it (agents then see another identity: held).
        var (installation, serverTime) = await connection.QuerySingleAsync<(Guid, DateTimeOffset)>(Sql.Command(
            """
            WITH made AS (
                INSERT INTO installation SELECT WHERE NOT EXISTS (SELECT 1 FROM installation) ON CONFLICT DO NOTHING RETURNING id
            )
            SELECT coalesce((SELECT id FROM installation), (SELECT id FROM made)), now()
            """, null, cancellationToken, transaction));

        await connection.ExecuteAsync(Sql.Command(
            $"""
            INSERT INTO workers (name, state, base_url, heartbeat_at, disk_capacity_bytes, disk_free_bytes, disk_volumes_bytes, disk_reported_at)
            VALUES (@Worker, {WorkerLifecycle.Definition.InitialSql}, @BaseUrl, now(), @Capacity, @Free, @Used, CASE WHEN @Capacity::bigint IS NULL THEN NULL ELSE now() END)
            ON CONFLICT (name) DO UPDATE
            SET base_url = EXCLUDED.base_url,
                heartbeat_at = now(),
                disk_capacity_bytes = coalesce(EXCLUDED.disk_capacity_bytes, workers.disk_capacity_bytes),
                disk_free_bytes = coalesce(EXCLUDED.disk_free_bytes, workers.disk_free_bytes),
                disk_volumes_bytes = coalesce(EXCLUDED.disk_volumes_bytes, workers.disk_volumes_bytes),
                disk_reported_at = coalesce(EXCLUDED.disk_reported_at, workers.disk_reported_at),
                state = CASE WHEN {ReturnsOnRegistration} THEN {Register.ToSql} ELSE workers.state END,
                state_changed_at = CASE WHEN {ReturnsOnRegistration} THEN now() ELSE workers.state_changed_at END
            """, reported, cancellationToken, transaction));

        // Read after the worker's row is written (and locked): a prune or retirement that revoked the
        // token commits its bump with the row's deletion, so it is either seen here or comes after us.
        if (registration.TokenGeneration is { } checkedGeneration
            && checkedGeneration != await connection.ExecuteScalarAsync<long>(Sql.Command(
                "SELECT coalesce((SELECT generation FROM worker_credentials WHERE name = @Worker), 0)", reported, cancellationToken, transaction)))
        {
            throw new UnauthorizedAccessException($"the token of worker '{registration.Name}' was revoked while it registered");
        }

        await connection.ExecuteAsync(Sql.Command(
            """
            INSERT INTO base_resource_types (name)
            SELECT unnest(@Names::text[])
            ON CONFLICT (name) DO NOTHING
            """, reported, cancellationToken, transaction));

        await connection.ExecuteAsync(Sql.Command(
            """
            DELETE FROM worker_base_resource_types w
            USING base_resource_types b
            WHERE w.worker_name = @Worker
              AND b.id = w.base_resource_type_id
              AND NOT EXISTS (
                  SELECT 1 FROM unnest(@Names::text[], @Images::text[], @Versions::text[]) AS r(name, image, version)
                  WHERE r.name = b.name AND r.image = w.image AND r.version = w.version)
            """, reported, cancellationToken, transaction));

        await connection.ExecuteAsync(Sql.Command(
            """
            INSERT INTO worker_base_resource_types (worker_name, base_resource_type_id, image, version)
            SELECT @Worker, b.id, r.image, r.version
            FROM unnest(@Names::text[], @Images::text[], @Versions::text[]) AS r(name, image, version)
            JOIN base_resource_types b ON b.name = r.name
            ON CONFLICT (worker_name, base_resource_type_id) DO NOTHING
            """, reported, cancellationToken, transaction));

        var rows = await connection.QueryAsync<WorkerBaseResourceType>(Sql.Command(
            """
            SELECT w.id, w.worker_name, b.name, w.image, w.version
            FROM worker_base_resource_types w
            JOIN base_resource_types b ON b.id = w.base_resource_type_id
            WHERE w.worker_name = @Worker
            ORDER BY b.name
            """, reported, cancellationToken, transaction));

        // The identity check: an agent that knew another database is held until an operator adopts it;
        // one that comes back to the database it knew loses an identity hold by itself.
        var trusted = await connection.ExecuteScalarAsync<bool>(Sql.Command(
            """
            WITH me AS (SELECT @Known::uuid AS known, (SELECT id FROM installation) AS here)
            UPDATE workers w
            SET hold = CASE WHEN me.known IS NOT NULL AND me.known <> me.here AND NOT w.adopt_identity THEN 'identity'
                            WHEN w.hold = 'identity' THEN NULL ELSE w.hold END,
                hold_detail = CASE WHEN me.known IS NOT NULL AND me.known <> me.here AND NOT w.adopt_identity
                                   THEN format('its agent registered with database %s before; this database is %s', me.known, me.here)
                                   WHEN w.hold = 'identity' THEN NULL ELSE w.hold_detail END,
                held_since = CASE WHEN me.known IS NOT NULL AND me.known <> me.here AND NOT w.adopt_identity THEN coalesce(w.held_since, now())
                                  WHEN w.hold = 'identity' THEN NULL ELSE w.held_since END,
                adopt_identity = w.adopt_identity AND me.known IS NOT NULL AND me.known <> me.here
            FROM me
            WHERE w.name = @Worker
            RETURNING me.known IS NULL OR me.known = me.here OR w.hold IS DISTINCT FROM 'identity'
            """, reported, cancellationToken, transaction));

        var worker = await connection.QuerySingleAsync<WorkerRow>(Sql.Command(
            $"{SelectWorkers} WHERE name = @Worker", reported, cancellationToken, transaction));
        await transaction.CommitAsync(cancellationToken);
        return new WorkerRegistrationResult(worker.ToWorker(), rows.AsList(), installation, serverTime, trusted);
    }

    /// <summary>
    /// An operator confirms that a held worker's unknown volumes are garbage (and that its agent may
    /// take this database's identity): the hold is lifted, the agent's next registration records the
    /// identity, and its next report destroys the volumes unknown here. False when the worker is unknown.
    /// </summary>
    public Task<bool> AdoptAsync(string name, CancellationToken cancellationToken = default) => dataSource.UpdatesOneAsync(
        """
        UPDATE workers
        SET hold = NULL, hold_detail = NULL, held_since = NULL, held_unknown = 0, adopt_identity = true, release_unknown = true
        WHERE name = @name
        """, new { name }, cancellationToken);

    /// <summary>Records a heartbeat; a stalled worker is running again. False when the worker is unknown.</summary>
    public Task<bool> HeartbeatAsync(string name, CancellationToken cancellationToken = default) => dataSource.UpdatesOneAsync(
        $"""
        UPDATE workers
        SET heartbeat_at = now(),
            state = CASE WHEN {Resume.FromStatesSql("workers")} THEN {Resume.ToSql} ELSE state END,
            state_changed_at = CASE WHEN {Resume.FromStatesSql("workers")} THEN now() ELSE state_changed_at END
        WHERE name = @name
        """, new { name }, cancellationToken);

    /// <summary>
    /// Starts landing a worker (going away for a while): it takes no new work; once it has no
    /// containers the collector marks it landed. False when it is unknown or not running.
    /// </summary>
    public Task<bool> LandAsync(string name, CancellationToken cancellationToken = default) => dataSource.UpdatesOneAsync(
        $"UPDATE workers w SET {Land.SetStateSql} WHERE w.name = @name AND {Land.FromStatesSql("w")}",
        new { name }, cancellationToken);

    /// <summary>
    /// Starts retiring a worker (going away for good): once it has no containers the collector
    /// deletes it and, by cascade, its volumes. False when it is unknown or already landed.
    /// </summary>
    public Task<bool> RetireAsync(string name, CancellationToken cancellationToken = default) => dataSource.UpdatesOneAsync(
        $"UPDATE workers w SET {Retire.SetStateSql} WHERE w.name = @name AND {Retire.FromStatesSql("w")}",
        new { name }, cancellationToken);

    /// <summary>
    /// Deletes a worker that is not running (stalled, landed, or <paramref name="force"/>): the
    /// cascade removes its containers, volumes and base resource types, and the same statement bumps
    /// its token generation (<c>worker_credentials</c>), so its token is revoked. If it comes back with
    /// a new token (<c>atc-gc worker-token</c>), it registers anew and its leftover volumes are
    /// destroyed through its report.
    /// </summary>
    public async Task<PruneOutcome> PruneAsync(string name, bool force = false, CancellationToken cancellationToken = default)
    {
        var deleted = await dataSource.ScalarAsync<long?>(
            $"""
            WITH deleted AS (
                DELETE FROM workers w WHERE w.name = @name AND {Prunable}
                RETURNING w.name, (SELECT count(*) FROM volumes v WHERE v.worker_name = w.name) AS volumes
            ), revoked AS (
                INSERT INTO worker_credentials (name, generation, rotated_at)
                SELECT name, 1, now() FROM deleted
                ON CONFLICT (name) DO UPDATE SET generation = worker_credentials.generation + 1, rotated_at = now()
            )
            SELECT volumes FROM deleted
            """, new { name, force }, cancellationToken);
        return await OutcomeAsync(name, deleted, cancellationToken);
    }

    /// <summary>What <see cref="PruneAsync"/> would do, changing nothing: pruned tells whether it would be, volumes how many rows would go.</summary>
    public async Task<PruneOutcome> PreviewPruneAsync(string name, bool force = false, CancellationToken cancellationToken = default) =>
        await OutcomeAsync(name, await dataSource.ScalarAsync<long?>(
            $"SELECT (SELECT count(*) FROM volumes v WHERE v.worker_name = w.name) FROM workers w WHERE w.name = @name AND {Prunable}",
            new { name, force }, cancellationToken), cancellationToken);

    /// <summary>Which workers a prune takes: stalled or landed ones, any with @force.</summary>
    private static readonly string Prunable = $"(@force OR {Prune.FromStatesSql("w")})";

    private async Task<PruneOutcome> OutcomeAsync(string name, long? volumes, CancellationToken cancellationToken)
    {
        if (volumes is { } count)
        {
            return new PruneOutcome(true, count, null);
        }

        var worker = await FindAsync(name, cancellationToken);
        return new PruneOutcome(false, 0, worker is null
            ? $"no worker named '{name}'"
            : $"worker '{name}' is {worker.State.ToDb()}: only {Prune.FromLabels} workers can be pruned (land or retire it first)");
    }

    public async Task<Worker?> FindAsync(string name, CancellationToken cancellationToken = default) =>
        (await dataSource.QuerySingleOrDefaultAsync<WorkerRow>($"{SelectWorkers} WHERE name = @name", new { name }, cancellationToken))?.ToWorker();

    public async Task<IReadOnlyList<Worker>> ListAsync(CancellationToken cancellationToken = default) =>
        [.. (await dataSource.QueryAsync<WorkerRow>($"{SelectWorkers} ORDER BY name", null, cancellationToken)).Select(r => r.ToWorker())];

    private const string SelectWorkers =
        "SELECT name, state::text AS state, base_url, heartbeat_at, registered_at, state_changed_at, hold, hold_detail, held_since, held_unknown FROM workers";

    private sealed class WorkerRow
    {
        public string Name { get; init; } = string.Empty;

        public string State { get; init; } = string.Empty;

        public string? BaseUrl { get; init; }

        public DateTimeOffset HeartbeatAt { get; init; }

        public DateTimeOffset RegisteredAt { get; init; }

        public DateTimeOffset StateChangedAt { get; init; }

        public string? Hold { get; init; }

        public string? HoldDetail { get; init; }

        public DateTimeOffset? HeldSince { get; init; }

        public int HeldUnknown { get; init; }

        public Worker ToWorker() => new(
            Name,
            WorkerStates.Labels.Parse(State),
            BaseUrl is null ? null : new Uri(BaseUrl),
            HeartbeatAt,
            RegisteredAt,
            StateChangedAt,
            Hold is null ? null : new WorkerHold(Hold, HoldDetail ?? string.Empty, HeldSince ?? StateChangedAt, HeldUnknown));
    }
}
