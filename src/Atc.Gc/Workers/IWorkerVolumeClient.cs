namespace Atc.Gc.Workers;

/// <summary>Where a worker's agent listens, and the token generation its token is derived with (<see cref="WorkerCredentials"/>).</summary>
public sealed record WorkerEndpoint(string Name, Uri BaseUrl, long Generation);

/// <summary>The collector's view of one handle after asking the worker to delete it.</summary>
/// <param name="Gone">The worker confirmed it deleted the volume or never had it, and no data of it is left.</param>
/// <param name="Error">Why it is not confirmed gone (HTTP status, timeout, refused connection...).</param>
/// <param name="Pending">Not a failure: the worker took it out of its listing and is still removing its data; ask again soon.</param>
public sealed record VolumeDeletion(string Handle, bool Gone, string? Error = null, bool Pending = false);

/// <summary>How asking a worker to create a volume ended.</summary>
public enum WorkerCreateOutcome
{
    Created,

    /// <summary>The worker already has a volume with this handle (an earlier attempt that timed out may have made it).</summary>
    AlreadyExists,

    /// <summary>A copy-on-write child's parent is not on the worker.</summary>
    ParentNotFound,

    /// <summary>The worker answered with an error (the detail says which).</summary>
    Refused,

    /// <summary>The worker could not be reached or did not answer in time.</summary>
    Unreachable,
}

/// <param name="Volume">The volume as the worker describes it, when created.</param>
public sealed record WorkerCreation(WorkerCreateOutcome Outcome, VolumeDto? Volume = null, string? Error = null);

/// <summary>What a worker said about one handle.</summary>
/// <param name="Reached">False when the worker could not be asked (then <paramref name="Volume"/> says nothing).</param>
public sealed record WorkerLookup(bool Reached, VolumeDto? Volume, string? Error = null);

/// <summary>Creates, looks up and deletes volumes on a worker's agent.</summary>
public interface IWorkerVolumeClient
{
    /// <summary>
    /// Asks the worker to create a volume (empty, or a copy-on-write child of a volume it has). Never
    /// throws for a worker problem; throws only when <paramref name="cancellationToken"/> fires.
    /// </summary>
    Task<WorkerCreation> CreateAsync(WorkerEndpoint worker, CreateVolumeRequest request, CancellationToken cancellationToken);

    /// <summary>Asks the worker about one handle. Never throws for a worker problem.</summary>
    Task<WorkerLookup> FindAsync(WorkerEndpoint worker, string handle, CancellationToken cancellationToken);

    /// <summary>
    /// Asks the worker to delete <paramref name="handles"/>. Never throws for a worker problem (it
    /// comes back as deletions that are not gone); throws only when <paramref name="cancellationToken"/> fires.
    /// </summary>
    Task<IReadOnlyList<VolumeDeletion>> DestroyAsync(WorkerEndpoint worker, IReadOnlyList<string> handles, CancellationToken cancellationToken);
}
