namespace Atc.Gc.Collection.DiskPressure;

/// <summary>
/// Called by the disk-pressure collector after it has locked what it means to evict and before it
/// decides again and applies. The default does nothing; race tests hold the collector here to make
/// the window between lock and decision as wide as they like.
/// </summary>
public interface IDiskPressurePause
{
    Task LockedAsync(CancellationToken cancellationToken);
}

/// <summary>No pause.</summary>
public sealed class NoDiskPressurePause : IDiskPressurePause
{
    public Task LockedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
