namespace Atc.Gc.Workers;

/// <summary>Where a worker's agent listens.</summary>
public sealed record WorkerEndpoint(string Name, Uri BaseUrl);

/// <summary>The collector's view of one handle after asking the worker to delete it.</summary>
/// <param name="Gone">The worker confirmed it deleted the volume or never had it.</param>
/// <param name="Error">Why it is not confirmed gone (HTTP status, timeout, refused connection...).</param>
public sealed record VolumeDeletion(string Handle, bool Gone, string? Error = null);

/// <summary>Deletes volumes on a worker's agent.</summary>
public interface IWorkerVolumeClient
{
    /// <summary>
    /// Asks the worker to delete <paramref name="handles"/>. Never throws for a worker problem (it
    /// comes back as deletions that are not gone); throws only when <paramref name="cancellationToken"/> fires.
    /// </summary>
    Task<IReadOnlyList<VolumeDeletion>> DestroyAsync(WorkerEndpoint worker, IReadOnlyList<string> handles, CancellationToken cancellationToken);
}
