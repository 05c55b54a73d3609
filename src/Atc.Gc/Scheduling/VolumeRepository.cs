using Atc.Gc.Database;
using Atc.Gc.Lifecycle;
using Atc.Gc.Model;
using Dapper;
using Npgsql;

namespace Atc.Gc.Scheduling;

/// <summary>
/// Creates volumes and moves them through the lifecycle. Every transition is one compare-and-set
/// statement derived from <see cref="VolumeLifecycle"/>; losing a race to another process comes back
/// as a <see cref="TransitionResult"/>, never as a driver exception.
/// </summary>
public sealed class VolumeRepository(NpgsqlDataSource dataSource)
{

    /// <summary>Creates a volume in state creating on a worker, for the given owners.</summary>
    public async Task<CreateVolumeResult> CreateAsync(
        string workerName, VolumeOwners owners, string? handle = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(owners);
        WorkerNames.Validate(workerName, nameof(workerName));
        RequireOwner(owners);
        var parameters = new
        {
            handle = HandleFormat.Validate(handle ?? HandleFormat.New(), nameof(handle)),
            workerName,
            owners.ContainerId,
            owners.ResourceCacheId,
            owners.WorkerBaseResourceTypeId,
            owners.TaskCacheId,
        };
        return await InsertAsync(
            $"""
            INSERT INTO volumes (handle, worker_name, container_id, resource_cache_id, worker_base_resource_type_id, task_cache_id)
            VALUES (@handle, @workerName, @ContainerId, @ResourceCacheId, @WorkerBaseResourceTypeId, @TaskCacheId)
            RETURNING {Columns}
            """, parameters, parentId: null, cancellationToken);
    }

    /// <summary>
    /// Creates a copy-on-write child of an initialized volume, on the parent's worker. The row
    /// references the parent's (id, 'initialized'), so a parent that is being destroyed (or is not
    /// ready) refuses the child: <see cref="CreateVolumeOutcome.ParentNotReady"/>.
    /// </summary>
    public async Task<CreateVolumeResult> CreateCopyOnWriteChildAsync(
        long parentId, VolumeOwners owners, string? handle = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(owners);
        RequireOwner(owners);
        var parameters = new
        {
            parentId,
            handle = HandleFormat.Validate(handle ?? HandleFormat.New(), nameof(handle)),
            parentState = VolumeLifecycle.CopyOnWriteParentState.ToDb(),
            owners.ContainerId,
            owners.ResourceCacheId,
            owners.WorkerBaseResourceTypeId,
            owners.TaskCacheId,
        };
        return await InsertAsync(
            $"""
            INSERT INTO volumes (handle, worker_name, container_id, resource_cache_id, worker_base_resource_type_id,
                                 task_cache_id, parent_id, parent_state)
            SELECT @handle, p.worker_name, @ContainerId, @ResourceCacheId, @WorkerBaseResourceTypeId,
                   @TaskCacheId, p.id, p.state
            FROM volumes p
            WHERE p.id = @parentId AND p.state = @parentState::volume_state
            RETURNING {Columns}
            """, parameters, parentId, cancellationToken);
    }

    /// <summary>
    /// Adds owners to a volume that is still ownable (not failed or destroying), for example the
    /// resource cache a fetched volume now holds, or the container of a build that mounts a task cache
    /// volume. An owner column already set to another row is never replaced (the volume is then
    /// <see cref="AttachOwnersOutcome.OwnedByAnother"/>): a container that mounted a volume keeps it.
    /// A cache given to an initialized volume supersedes the cache's other initialized volumes on the
    /// worker (see <see cref="MarkInitializedAsync"/>).
    /// </summary>
    public async Task<AttachOwnersOutcome> AttachOwnersAsync(long volumeId, VolumeOwners owners, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(owners);
        RequireOwner(owners);
        var ownable = string.Join(", ", VolumeLifecycle.Ownable.Select(s => $"'{s.ToDb()}'"));
        var parameters = new { volumeId, owners.ContainerId, owners.ResourceCacheId, owners.WorkerBaseResourceTypeId, owners.TaskCacheId };
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            await LockCachesAsync(connection, volumeId, owners.ResourceCacheId, owners.TaskCacheId, cancellationToken);
            var attached = await connection.ExecuteAsync(Sql.Command(
                $"""
                UPDATE volumes
                SET container_id = coalesce(@ContainerId, container_id),
                    resource_cache_id = coalesce(@ResourceCacheId, resource_cache_id),
                    worker_base_resource_type_id = coalesce(@WorkerBaseResourceTypeId, worker_base_resource_type_id),
                    task_cache_id = coalesce(@TaskCacheId, task_cache_id)
                WHERE id = @volumeId AND state IN ({ownable})
                  AND (@ContainerId::bigint IS NULL OR container_id IS NULL OR container_id = @ContainerId)
                  AND (@ResourceCacheId::bigint IS NULL OR resource_cache_id IS NULL OR resource_cache_id = @ResourceCacheId)
                  AND (@WorkerBaseResourceTypeId::bigint IS NULL OR worker_base_resource_type_id IS NULL
                       OR worker_base_resource_type_id = @WorkerBaseResourceTypeId)
                  AND (@TaskCacheId::bigint IS NULL OR task_cache_id IS NULL OR task_cache_id = @TaskCacheId)
                """, parameters, cancellationToken));
            if (attached == 1)
            {
                await ReleaseSupersededAsync(connection, volumeId, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return AttachOwnersOutcome.Attached;
            }
        }
        catch (PostgresException ex) when (ex.IsForeignKeyViolation())
        {
            return AttachOwnersOutcome.OwnerGone;
        }

        var volume = await connection.QuerySingleOrDefaultAsync<VolumeRow>(Sql.Command(
            $"SELECT {Columns} FROM volumes WHERE id = @volumeId", parameters, cancellationToken));
        return volume is null ? AttachOwnersOutcome.NotFound
            : VolumeLifecycle.Ownable.Contains(VolumeStates.Parse(volume.State)) ? AttachOwnersOutcome.OwnedByAnother
            : AttachOwnersOutcome.Destroying;
    }

    public Task<TransitionResult> MarkCreatedAsync(long volumeId, CancellationToken cancellationToken = default) =>
        TransitionAsync(volumeId, VolumeTrigger.MarkCreated, cancellationToken);

    public Task<TransitionResult> StartInitializingAsync(long volumeId, CancellationToken cancellationToken = default) =>
        TransitionAsync(volumeId, VolumeTrigger.StartInitializing, cancellationToken);

    /// <summary>
    /// initializing → initialized. A volume of a resource cache or a task cache supersedes the cache's
    /// other initialized volumes on its worker: they lose that owner (one ready volume per cache per
    /// worker) and are collected once nothing else holds them — a copy-on-write child keeps its parent,
    /// a container keeps a volume it mounted. Initializations of one cache on one worker are serialized
    /// (an advisory lock), so two that race still leave one.
    /// </summary>
    public Task<TransitionResult> MarkInitializedAsync(long volumeId, CancellationToken cancellationToken = default) =>
        TransitionAsync(volumeId, VolumeTrigger.MarkInitialized, cancellationToken);

    public Task<TransitionResult> MarkFailedAsync(long volumeId, CancellationToken cancellationToken = default) =>
        TransitionAsync(volumeId, VolumeTrigger.Fail, cancellationToken);

    /// <summary>Starts destroying an orphan; refused (as a result) while an owner or a child holds it.</summary>
    public Task<TransitionResult> DestroyAsync(long volumeId, CancellationToken cancellationToken = default) =>
        TransitionAsync(volumeId, VolumeTrigger.Destroy, cancellationToken);

    /// <summary>The worker confirmed the volume is gone from its disk: the row is deleted.</summary>
    public Task<TransitionResult> ConfirmDeletedAsync(long volumeId, CancellationToken cancellationToken = default) =>
        TransitionAsync(volumeId, VolumeTrigger.ConfirmDeleted, cancellationToken);

    /// <summary>Its worker lost the volume: the row is deleted (it must be missing and, alone, have no children).</summary>
    public Task<TransitionResult> ForgetAsync(long volumeId, CancellationToken cancellationToken = default) =>
        TransitionAsync(volumeId, VolumeTrigger.Forget, cancellationToken);

    /// <summary>
    /// Fires <paramref name="trigger"/> on one volume as a compare-and-set: the statement changes the
    /// row only if it is in one of the trigger's from-states and the guards hold. When nothing
    /// changed, the row is read once to say why. <see cref="VolumeTrigger.MarkInitialized"/> also
    /// supersedes the volume's caches' other ready volumes on its worker (see <see cref="MarkInitializedAsync"/>).
    /// </summary>
    public async Task<TransitionResult> TransitionAsync(long volumeId, VolumeTrigger trigger, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (trigger != VolumeTrigger.MarkInitialized)
        {
            return await TransitionOnAsync(connection, volumeId, trigger, cancellationToken);
        }

        // Becoming ready supersedes the cache's other ready volumes on the worker, under the cache's lock.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockCachesAsync(connection, volumeId, null, null, cancellationToken);
        var result = await TransitionOnAsync(connection, volumeId, trigger, cancellationToken);
        if (result.Outcome == TransitionOutcome.Applied)
        {
            await ReleaseSupersededAsync(connection, volumeId, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    private static async Task<TransitionResult> TransitionOnAsync(NpgsqlConnection connection, long volumeId, VolumeTrigger trigger, CancellationToken cancellationToken)
    {
        var statements = VolumeTransitionStatements.For(trigger);

        const int attempts = 3;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (await connection.ExecuteAsync(Sql.Command(statements.Apply, new { volumeId }, cancellationToken)) == 1)
                {
                    return new TransitionResult(trigger, TransitionOutcome.Applied, statements.Transition.To);
                }
            }
            catch (PostgresException ex) when (ex.IsForeignKeyViolation("volumes_parent_fkey"))
            {
                // A child was inserted between the guard's check and the update: the schema refused.
                return new TransitionResult(trigger, TransitionOutcome.GuardFailed, null, VolumeGuard.Childless.Name);
            }

            var row = await connection.QuerySingleOrDefaultAsync<DiagnosisRow>(Sql.Command(statements.Diagnose, new { volumeId }, cancellationToken));
            var result = statements.Explain(row?.State, row?.Guards ?? []);
            if (result is not null || attempt == attempts)
            {
                return result ?? new TransitionResult(trigger, TransitionOutcome.NotPermitted, VolumeStates.Parse(row!.State), "the volume kept changing");
            }
        }
    }

    public async Task<Volume?> FindAsync(long volumeId, CancellationToken cancellationToken = default) =>
        (await dataSource.QuerySingleOrDefaultAsync<VolumeRow>(
            $"SELECT {Columns} FROM volumes WHERE id = @volumeId", new { volumeId }, cancellationToken))?.ToVolume();

    /// <summary>
    /// The newest initialized volume on <paramref name="workerName"/> held by every owner set in
    /// <paramref name="owners"/> (for example the volume of a resource cache, to copy from), or null.
    /// A volume its worker stopped reporting (missing) is never returned.
    /// </summary>
    public async Task<Volume?> FindReadyAsync(string workerName, VolumeOwners owners, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(owners);
        RequireOwner(owners);
        return (await dataSource.QuerySingleOrDefaultAsync<VolumeRow>(
            $"""
            SELECT {Columns} FROM volumes
            WHERE worker_name = @workerName AND state = @ready::volume_state AND missing_since IS NULL
              AND (@ContainerId::bigint IS NULL OR container_id = @ContainerId)
              AND (@ResourceCacheId::bigint IS NULL OR resource_cache_id = @ResourceCacheId)
              AND (@WorkerBaseResourceTypeId::bigint IS NULL OR worker_base_resource_type_id = @WorkerBaseResourceTypeId)
              AND (@TaskCacheId::bigint IS NULL OR task_cache_id = @TaskCacheId)
            ORDER BY id DESC
            LIMIT 1
            """,
            new
            {
                workerName,
                ready = VolumeLifecycle.CopyOnWriteParentState.ToDb(),
                owners.ContainerId,
                owners.ResourceCacheId,
                owners.WorkerBaseResourceTypeId,
                owners.TaskCacheId,
            },
            cancellationToken))?.ToVolume();
    }

    public async Task<Volume?> FindByHandleAsync(string handle, CancellationToken cancellationToken = default) =>
        (await dataSource.QuerySingleOrDefaultAsync<VolumeRow>(
            $"SELECT {Columns} FROM volumes WHERE handle = @handle", new { handle }, cancellationToken))?.ToVolume();

    /// <summary>
    /// Takes the transaction's advisory locks on (worker, resource cache) and (worker, task cache) of a
    /// volume — its current caches and <paramref name="resourceCacheId"/> / <paramref name="taskCacheId"/>
    /// about to be given to it — in a fixed order, so that initializations of one cache on one worker
    /// follow each other and each sees the ones before.
    /// </summary>
    private static Task<int> LockCachesAsync(NpgsqlConnection connection, long volumeId, long? resourceCacheId, long? taskCacheId, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(Sql.Command(
            """
            SELECT pg_advisory_xact_lock(k.key)
            FROM (SELECT DISTINCT hashtextextended(format('atc-gc %s %s %s', v.worker_name, c.kind, c.id), 0) AS key
                  FROM volumes v
                  CROSS JOIN LATERAL (VALUES ('resource-cache', coalesce(@resourceCacheId, v.resource_cache_id)),
                                             ('task-cache', coalesce(@taskCacheId, v.task_cache_id))) AS c(kind, id)
                  WHERE v.id = @volumeId AND c.id IS NOT NULL) k
            ORDER BY k.key
            """, new { volumeId, resourceCacheId, taskCacheId }, cancellationToken));

    /// <summary>The other initialized volumes of this initialized volume's caches, on its worker, lose that cache.</summary>
    private static Task<int> ReleaseSupersededAsync(NpgsqlConnection connection, long volumeId, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(Sql.Command(
            $"""
            UPDATE volumes o
            SET resource_cache_id = CASE WHEN o.resource_cache_id = me.resource_cache_id THEN NULL ELSE o.resource_cache_id END,
                task_cache_id = CASE WHEN o.task_cache_id = me.task_cache_id THEN NULL ELSE o.task_cache_id END
            FROM volumes me
            WHERE me.id = @volumeId AND me.state = '{VolumeState.Initialized.ToDb()}'
              AND o.worker_name = me.worker_name AND o.id <> me.id AND o.state = '{VolumeState.Initialized.ToDb()}'
              AND (o.resource_cache_id = me.resource_cache_id OR o.task_cache_id = me.task_cache_id)
            """, new { volumeId }, cancellationToken));

    private const string Columns =
        "id, handle, worker_name, state::text AS state, container_id, resource_cache_id, worker_base_resource_type_id, " +
        "task_cache_id, parent_id, missing_since, created_at, state_changed_at";

    private async Task<CreateVolumeResult> InsertAsync(string sql, object parameters, long? parentId, CancellationToken cancellationToken)
    {
        try
        {
            var row = await dataSource.QuerySingleOrDefaultAsync<VolumeRow>(sql, parameters, cancellationToken);
            if (row is not null)
            {
                return new CreateVolumeResult(CreateVolumeOutcome.Created, row.ToVolume());
            }
        }
        catch (PostgresException ex) when (ex.IsForeignKeyViolation("volumes_parent_fkey"))
        {
            return new CreateVolumeResult(CreateVolumeOutcome.ParentNotReady, null, "the parent left the initialized state while the child was being created");
        }
        catch (PostgresException ex) when (ex.IsForeignKeyViolation("volumes_worker_name_fkey"))
        {
            return new CreateVolumeResult(CreateVolumeOutcome.UnknownWorker, null, ex.Detail);
        }
        catch (PostgresException ex) when (ex.IsForeignKeyViolation())
        {
            return new CreateVolumeResult(CreateVolumeOutcome.OwnerGone, null, $"{ex.ConstraintName}: {ex.Detail}");
        }
        catch (PostgresException ex) when (ex.IsUniqueViolation("volumes_handle_key"))
        {
            return new CreateVolumeResult(CreateVolumeOutcome.HandleTaken, null, ex.Detail);
        }

        // Only the child insert selects from its parent and can insert nothing.
        var parent = await FindAsync(parentId!.Value, cancellationToken);
        return parent is null
            ? new CreateVolumeResult(CreateVolumeOutcome.ParentNotFound, null, $"volume {parentId} does not exist")
            : new CreateVolumeResult(CreateVolumeOutcome.ParentNotReady, null, $"the parent is {parent.State.ToDb()}, not {VolumeLifecycle.CopyOnWriteParentState.ToDb()}");
    }

    private static void RequireOwner(VolumeOwners owners)
    {
        if (!owners.Any)
        {
            throw new ArgumentException(
                "a volume needs an owner (container, resource cache, worker base resource type or task cache): an unowned volume is garbage",
                nameof(owners));
        }
    }

    private sealed class DiagnosisRow
    {
        public string State { get; init; } = string.Empty;

        public bool[] Guards { get; init; } = [];
    }

    private sealed class VolumeRow
    {
        public long Id { get; init; }

        public string Handle { get; init; } = string.Empty;

        public string WorkerName { get; init; } = string.Empty;

        public string State { get; init; } = string.Empty;

        public long? ContainerId { get; init; }

        public long? ResourceCacheId { get; init; }

        public long? WorkerBaseResourceTypeId { get; init; }

        public long? TaskCacheId { get; init; }

        public long? ParentId { get; init; }

        public DateTimeOffset? MissingSince { get; init; }

        public DateTimeOffset CreatedAt { get; init; }

        public DateTimeOffset StateChangedAt { get; init; }

        public Volume ToVolume() => new(
            Id,
            Handle,
            WorkerName,
            VolumeStates.Parse(State),
            new VolumeOwners(ContainerId, ResourceCacheId, WorkerBaseResourceTypeId, TaskCacheId),
            ParentId,
            MissingSince,
            CreatedAt,
            StateChangedAt);
    }
}
