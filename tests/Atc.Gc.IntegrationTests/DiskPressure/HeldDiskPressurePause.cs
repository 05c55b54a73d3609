using Atc.Gc.Collection.DiskPressure;

namespace Atc.Gc.IntegrationTests.DiskPressure;

/// <summary>Holds the disk-pressure collector between its locks and its decision until the test lets it go.</summary>
public sealed class HeldDiskPressurePause : IDiskPressurePause
{
    private readonly TaskCompletionSource locked = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the collector holds its locks.</summary>
    public Task Locked => locked.Task;

    public void Release() => released.TrySetResult();

    public async Task LockedAsync(CancellationToken cancellationToken)
    {
        locked.TrySetResult();
        await released.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
    }
}
