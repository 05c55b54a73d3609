using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Lifecycle;
using Atc.Gc.Scheduling;

namespace Atc.Gc.IntegrationTests.DiskPressure;

/// <summary>
/// Checks, again and again until stopped, that every volume held in use is in the database, not
/// destroying or failed, and on the agent's disk. Releasing waits for a check in progress, so a
/// volume released during a check is never a false finding.
/// </summary>
public sealed class HeldVolumeWatch(AtcGcStore store, AgentInstance agent) : IDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly HashSet<string> held = new(StringComparer.Ordinal);
    private readonly List<string> violations = [];
    private long checks;

    public IReadOnlyList<string> Violations => violations;

    public long Checks => Interlocked.Read(ref checks);

    public void Hold(IEnumerable<string> handles) => Change(() => held.UnionWith(handles));

    public void Release(IEnumerable<string> handles) => Change(() => held.ExceptWith(handles));

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await gate.WaitAsync(CancellationToken.None);
            try
            {
                await CheckAsync();
            }
            finally
            {
                gate.Release();
            }

            await Task.Delay(10, CancellationToken.None);
        }
    }

    private void Change(Action change)
    {
        gate.Wait();
        try
        {
            change();
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task CheckAsync()
    {
        var onDisk = agent.Store.List(withSizes: false).Select(v => v.Handle).ToHashSet(StringComparer.Ordinal);
        foreach (var handle in held)
        {
            var row = await store.Volumes.FindByHandleAsync(handle);
            if (row is null || row.State is VolumeState.Destroying or VolumeState.Failed || !onDisk.Contains(handle))
            {
                violations.Add($"held volume {handle}: {(row is null ? "no row" : row.State.ToDb())}, {(onDisk.Contains(handle) ? "on disk" : "NOT on disk")}");
            }
        }

        Interlocked.Increment(ref checks);
    }

    public void Dispose() => gate.Dispose();
}
