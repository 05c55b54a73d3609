using Atc.Gc.Lifecycle;
using Atc.Gc.Workers;

namespace Atc.Gc.Scheduling;

/// <summary>How an attempt to have a ready volume on a worker ended.</summary>
public enum ReadyVolumeOutcome
{
    /// <summary>The volume is initialized in the database and on the worker's disk.</summary>
    Ready,

    /// <summary>The copy-on-write parent is not initialized any more (it is being destroyed, or was superseded and collected): find the parent again.</summary>
    ParentNotReady,

    /// <summary>The worker is not registered, has no address, or could not be reached; the volume (if a row was made) is marked failed.</summary>
    WorkerUnavailable,

    /// <summary>The worker refused the volume (the detail says why); the row is marked failed.</summary>
    WorkerRefused,

    /// <summary>An owner named for the volume (container, cache, task cache) does not exist any more.</summary>
    OwnerGone,

    /// <summary>The caller's population step threw; the row is marked failed (the exception is the inner one).</summary>
    PopulateFailed,

    /// <summary>The collector moved the volume while it was being set up (it took longer than the setup timeout): it is failed.</summary>
    Lost,
}

/// <param name="Volume">The ready volume when <see cref="Outcome"/> is <see cref="ReadyVolumeOutcome.Ready"/>.</param>
/// <param name="Detail">Why it is not ready.</param>
public sealed record ReadyVolumeResult(ReadyVolumeOutcome Outcome, Volume? Volume, string? Detail = null, Exception? Error = null)
{
    public bool Succeeded => Outcome == ReadyVolumeOutcome.Ready;
}

/// <summary>Fills a new volume before it is marked initialized (a resource fetch, an import): the volume, its worker, a token.</summary>
public delegate Task PopulateVolume(Volume volume, WorkerEndpoint worker, CancellationToken cancellationToken);

/// <summary>
/// The scheduler's volume operations, doing the database and the worker together: a row in the
/// database first (so a crash at any point leaves a row the collector reclaims), then the volume on
/// the worker's agent, then the lifecycle's marks — created, initializing, initialized — with the
/// row marked failed whenever the worker refuses or the population step throws. Results are typed;
/// nothing here throws for a lost race or a worker problem.
/// <list type="bullet">
/// <item><see cref="FindOrCreateResourceCacheVolumeAsync"/>: the ready volume of a resource cache on a worker,
/// made and populated if there is none (a new one supersedes an older one, which is released);</item>
/// <item><see cref="MountResourceCacheAsync"/>: a copy-on-write child of it for a container, finding the
/// parent again when it is refused (the usual way a build gets its input);</item>
/// <item><see cref="MountTaskCacheAsync"/>: the task cache's volume, owned by the container while it is
/// mounted (or a new one when another container has it);</item>
/// <item><see cref="CreateCopyOnWriteChildAsync"/> and <see cref="CreateOutputVolumeAsync"/>.</item>
/// </list>
/// </summary>
public sealed class WorkerVolumes(AtcGcStore store, IWorkerVolumeClient workers)
{
    /// <summary>How many times <see cref="MountResourceCacheAsync"/> finds the parent again after a refused child.</summary>
    public const int MountAttempts = 3;

    /// <summary>
    /// The newest ready, reported volume of the resource cache on the worker, its last use now; else
    /// (none, or it was evicted under disk pressure as it was found) a new one, populated.
    /// </summary>
    /// <param name="containerId">A container that also owns a new volume while it runs (the build that fetched it); null for none.</param>
    public async Task<ReadyVolumeResult> FindOrCreateResourceCacheVolumeAsync(
        string worker, long resourceCacheId, PopulateVolume populate, long? containerId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(populate);
        var ready = await store.Volumes.FindReadyAsync(worker, VolumeOwners.ResourceCache(resourceCacheId), cancellationToken);
        if (ready is not null
            && await store.CacheVolumes.UseAsync(ready.Id, VolumeOwners.ResourceCache(resourceCacheId), cancellationToken) == CacheVolumeUseOutcome.Used)
        {
            return new ReadyVolumeResult(ReadyVolumeOutcome.Ready, ready);
        }

        return await CreateReadyAsync(worker, new VolumeOwners(ContainerId: containerId, ResourceCacheId: resourceCacheId), populate, cancellationToken);
    }

    /// <summary>
    /// A copy-on-write child of the resource cache's volume on the worker, for a container: the
    /// container's copy of a build's input. The child keeps its parent for as long as it lives. A
    /// parent that leaves the ready state before the child is recorded (cleared, superseded) is found
    /// again, up to <see cref="MountAttempts"/> times.
    /// </summary>
    public async Task<ReadyVolumeResult> MountResourceCacheAsync(
        string worker, long resourceCacheId, long containerId, PopulateVolume populate, CancellationToken cancellationToken = default)
    {
        ReadyVolumeResult result = new(ReadyVolumeOutcome.ParentNotReady, null);
        for (var attempt = 0; attempt < MountAttempts && result.Outcome == ReadyVolumeOutcome.ParentNotReady; attempt++)
        {
            var parent = await FindOrCreateResourceCacheVolumeAsync(worker, resourceCacheId, populate, containerId, cancellationToken);
            if (!parent.Succeeded)
            {
                return parent;
            }

            result = await CreateCopyOnWriteChildAsync(parent.Volume!, containerId, cancellationToken);
        }

        return result;
    }

    /// <summary>
    /// The task cache's volume on the worker, mounted by a container: the container owns it while it
    /// runs, so superseding or clearing the cache never takes it from under the build. When another
    /// container has the ready volume mounted, or there is none, a new one is made (populated by
    /// <paramref name="populate"/> when given); it supersedes the older one once it is ready.
    /// </summary>
    public async Task<ReadyVolumeResult> MountTaskCacheAsync(
        string worker, long taskCacheId, long containerId, PopulateVolume? populate = null, CancellationToken cancellationToken = default)
    {
        var ready = await store.Volumes.FindReadyAsync(worker, VolumeOwners.TaskCache(taskCacheId), cancellationToken);
        if (ready is not null && await store.Volumes.AttachOwnersAsync(ready.Id, VolumeOwners.Container(containerId), cancellationToken) == AttachOwnersOutcome.Attached)
        {
            await store.CacheVolumes.TouchAsync(ready.Id, cancellationToken);
            return new ReadyVolumeResult(ReadyVolumeOutcome.Ready, (await store.Volumes.FindAsync(ready.Id, cancellationToken)) ?? ready);
        }

        return await CreateReadyAsync(worker, new VolumeOwners(ContainerId: containerId, TaskCacheId: taskCacheId), populate, cancellationToken);
    }

    /// <summary>A copy-on-write child of a ready volume, on the parent's worker, owned by a container.</summary>
    public async Task<ReadyVolumeResult> CreateCopyOnWriteChildAsync(Volume parent, long containerId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parent);
        var endpoint = await EndpointAsync(parent.WorkerName, cancellationToken);
        if (endpoint is null)
        {
            return new ReadyVolumeResult(ReadyVolumeOutcome.WorkerUnavailable, null, $"worker '{parent.WorkerName}' is not registered or has no address");
        }

        var row = await store.Volumes.CreateCopyOnWriteChildAsync(parent.Id, VolumeOwners.Container(containerId), cancellationToken: cancellationToken);
        if (!row.Succeeded)
        {
            return Refused(row);
        }

        await store.CacheVolumes.TouchAsync(parent.Id, cancellationToken);

        return await MakeOnWorkerAsync(
            row.Volume!, endpoint, new CreateVolumeRequest(row.Volume!.Handle, new VolumeStrategyDto("cow", parent.Handle)), null, cancellationToken);
    }

    /// <summary>An empty volume for a container's outputs, ready for it to write.</summary>
    public Task<ReadyVolumeResult> CreateOutputVolumeAsync(string worker, long containerId, CancellationToken cancellationToken = default) =>
        CreateReadyAsync(worker, VolumeOwners.Container(containerId), null, cancellationToken);

    private async Task<ReadyVolumeResult> CreateReadyAsync(string worker, VolumeOwners owners, PopulateVolume? populate, CancellationToken cancellationToken)
    {
        var endpoint = await EndpointAsync(worker, cancellationToken);
        if (endpoint is null)
        {
            return new ReadyVolumeResult(ReadyVolumeOutcome.WorkerUnavailable, null, $"worker '{worker}' is not registered or has no address");
        }

        var row = await store.Volumes.CreateAsync(worker, owners, cancellationToken: cancellationToken);
        return row.Succeeded
            ? await MakeOnWorkerAsync(row.Volume!, endpoint, new CreateVolumeRequest(row.Volume!.Handle), populate, cancellationToken)
            : Refused(row);
    }

    /// <summary>The row exists (creating): make the volume on the worker, populate it, mark it ready; on any failure, mark it failed.</summary>
    private async Task<ReadyVolumeResult> MakeOnWorkerAsync(
        Volume volume, WorkerEndpoint worker, CreateVolumeRequest request, PopulateVolume? populate, CancellationToken cancellationToken)
    {
        var created = await workers.CreateAsync(worker, request, cancellationToken);
        if (created.Outcome == WorkerCreateOutcome.AlreadyExists)
        {
            // An earlier attempt that timed out made it; the handle is new, so it is ours.
            var lookup = await workers.FindAsync(worker, volume.Handle, cancellationToken);
            created = lookup.Volume is not null ? new WorkerCreation(WorkerCreateOutcome.Created, lookup.Volume) : created;
        }

        if (created.Outcome != WorkerCreateOutcome.Created)
        {
            await store.Volumes.MarkFailedAsync(volume.Id, CancellationToken.None);
            return new ReadyVolumeResult(
                created.Outcome switch
                {
                    WorkerCreateOutcome.Unreachable => ReadyVolumeOutcome.WorkerUnavailable,
                    WorkerCreateOutcome.ParentNotFound => ReadyVolumeOutcome.ParentNotReady,
                    _ => ReadyVolumeOutcome.WorkerRefused,
                },
                null,
                $"worker '{worker.Name}': {created.Error}");
        }

        if (!(await store.Volumes.MarkCreatedAsync(volume.Id, cancellationToken)).Succeeded
            || !(await store.Volumes.StartInitializingAsync(volume.Id, cancellationToken)).Succeeded)
        {
            return await LostAsync(volume);
        }

        if (populate is not null)
        {
            try
            {
                await populate(volume, worker, cancellationToken);
            }
            catch (Exception ex)
            {
                await store.Volumes.MarkFailedAsync(volume.Id, CancellationToken.None);
                return new ReadyVolumeResult(ReadyVolumeOutcome.PopulateFailed, null, ex.Message, ex);
            }
        }

        return (await store.Volumes.MarkInitializedAsync(volume.Id, cancellationToken)).Succeeded
            ? new ReadyVolumeResult(ReadyVolumeOutcome.Ready, await store.Volumes.FindAsync(volume.Id, cancellationToken) ?? volume)
            : await LostAsync(volume);
    }

    private async Task<ReadyVolumeResult> LostAsync(Volume volume)
    {
        await store.Volumes.MarkFailedAsync(volume.Id, CancellationToken.None);
        var now = await store.Volumes.FindAsync(volume.Id, CancellationToken.None);
        return new ReadyVolumeResult(ReadyVolumeOutcome.Lost, null, $"volume {volume.Handle} is {now?.State.ToDb() ?? "gone"}: it was moved while being set up");
    }

    private Task<WorkerEndpoint?> EndpointAsync(string worker, CancellationToken cancellationToken) =>
        store.Credentials.EndpointAsync(worker, cancellationToken);

    private static ReadyVolumeResult Refused(CreateVolumeResult row) => new(
        row.Outcome switch
        {
            CreateVolumeOutcome.ParentNotReady or CreateVolumeOutcome.ParentNotFound => ReadyVolumeOutcome.ParentNotReady,
            CreateVolumeOutcome.UnknownWorker => ReadyVolumeOutcome.WorkerUnavailable,
            _ => ReadyVolumeOutcome.OwnerGone,
        },
        null,
        row.Detail);
}
