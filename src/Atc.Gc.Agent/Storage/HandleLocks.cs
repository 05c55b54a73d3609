namespace Atc.Gc.Agent.Storage;

/// <summary>
/// One lock per handle, held while a volume of that handle is created or deleted, so a create, a
/// second create and a delete of the same handle never interleave. Locks exist only while held or awaited.
/// </summary>
internal sealed class HandleLocks
{
    private readonly Lock sync = new();
    private readonly Dictionary<string, Entry> entries = new(StringComparer.Ordinal);

    /// <summary>Waits for the lock of <paramref name="handle"/>.</summary>
    public async Task<IDisposable> AcquireAsync(string handle, CancellationToken cancellationToken) =>
        await TryAcquireAsync(handle, Timeout.InfiniteTimeSpan, cancellationToken) ?? throw new InvalidOperationException("unreachable");

    /// <summary>Waits at most <paramref name="wait"/> for the lock of <paramref name="handle"/>; null when it was not free by then.</summary>
    public async Task<IDisposable?> TryAcquireAsync(string handle, TimeSpan wait, CancellationToken cancellationToken)
    {
        Entry entry;
        lock (sync)
        {
            if (!entries.TryGetValue(handle, out entry!))
            {
                entry = new Entry();
                entries[handle] = entry;
            }

            entry.Users++;
        }

        var acquired = false;
        try
        {
            acquired = await entry.Semaphore.WaitAsync(wait, cancellationToken);
            return acquired ? new Held(this, handle, entry) : null;
        }
        finally
        {
            if (!acquired)
            {
                Leave(handle, entry);
            }
        }
    }

    private void Leave(string handle, Entry entry)
    {
        lock (sync)
        {
            if (--entry.Users == 0)
            {
                entries.Remove(handle);
                entry.Semaphore.Dispose();
            }
        }
    }

    private sealed class Entry
    {
        public SemaphoreSlim Semaphore { get; } = new(1, 1);

        public int Users { get; set; }
    }

    private sealed class Held(HandleLocks owner, string handle, Entry entry) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                entry.Semaphore.Release();
                owner.Leave(handle, entry);
            }
        }
    }
}
