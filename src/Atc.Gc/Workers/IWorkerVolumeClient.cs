namespace Atc.Gc.Workers;

/// <summary>Where a worker's agent listens.</summary>
public sealed record WorkerEndpoint(string Name, Uri BaseUrl);

/// <summary>The collector's view of one handle after asking the worker to delete it.</summary>
/// <param name="Gone">The worker confirmed it deleted the volume or never had it, and no data of it is left.</param>
/// <param name="Error">Why it is not confirmed gone (HTTP status, timeout, refused connection...).</param>
/// <param name="Pending">Not a failure: the worker took it out of its listing and is still removing its data; ask again soon.</param>
public sealed record VolumeDeletion(string Handle, bool Gone, string? Error = null, bool Pending = false);

/// <summary>Deletes volumes on a worker's agent.</summary>
public interface IWorkerVolumeClient
{
    /// <summary>
    /// Asks the worker to delete <paramref name="handles"/>. Never throws for a worker problem (it
    /// comes back as deletions that are not gone); throws only when <paramref name="cancellationToken"/> fires.
    /// </summary>
    Task<IReadOnlyList<VolumeDeletion>> DestroyAsync(WorkerEndpoint worker, IReadOnlyList<string> handles, CancellationToken cancellationToken);
}
