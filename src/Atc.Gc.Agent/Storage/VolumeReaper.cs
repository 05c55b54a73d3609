using System.Threading.Channels;
using Atc.Gc.Agent.Drivers;
using Atc.Gc.Model;
using Microsoft.Extensions.Logging;

namespace Atc.Gc.Agent.Storage;


/// <summary>
/// Removes what is in <c>dead/</c>: volumes taken out of the listing, half-made volumes, leftovers of
/// an earlier run. A removal that fails (a file that cannot be deleted, a copy still writing) is
/// retried with a growing backoff, logged, counted and shown in health; until a volume's data is
/// removed the agent answers that volume as still being deleted, never as gone. Handles whose data the
/// reaper removed are handed to the orchestrator link (<see cref="TakeGone"/>) so their rows can go at once.
/// </summary>
internal sealed class VolumeReaper(string root, VolumeDrivers drivers, ReaperSettings settings, AgentMetrics metrics, ILogger logger)
{
    private readonly Lock sync = new();
    private readonly Dictionary<string, Grave> graves = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> byHandle = new(StringComparer.Ordinal);
    private readonly PriorityQueue<Grave, DateTimeOffset> due = new();
    private readonly List<string> gone = [];
    private readonly Channel<bool> wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public string DeadPath { get; } = Path.Combine(root, "dead");

    /// <summary>Signalled when handles were added to <see cref="TakeGone"/>.</summary>
    public event Action? Removed;

    /// <summary>Handles with data still on disk, in <c>dead/</c>.</summary>
    public IReadOnlyList<string> Handles
    {
        get
        {
            lock (sync)
            {
                return [.. byHandle.Keys];
            }
        }
    }

    public int Count
    {
        get
        {
            lock (sync)
            {
                return graves.Count;
            }
        }
    }

    public IReadOnlyList<Leftover> Leftovers
    {
        get
        {
            lock (sync)
            {
                return [.. graves.Values.OrderBy(g => g.Since).Select(g => new Leftover(
                    g.Handle, System.IO.Path.GetRelativePath(root, g.Path), g.Attempts, g.Error, g.Since, g.Error is null ? null : g.Due))];
            }
        }
    }

    /// <summary>The handle of a directory named <c>&lt;handle&gt;.&lt;id&gt;</c>, or null.</summary>
    public static string? HandleOf(string path)
    {
        var name = System.IO.Path.GetFileName(path);
        var dot = name.LastIndexOf('.');
        return dot > 0 && HandleFormat.IsValid(name[..dot]) ? name[..dot] : null;
    }

    /// <summary>A new directory name in <c>dead/</c> for <paramref name="handle"/>.</summary>
    public string NewGrave(string handle) => System.IO.Path.Combine(DeadPath, $"{handle}.{Guid.NewGuid():N}");

    /// <summary>True while data of <paramref name="handle"/> is in <c>dead/</c> (being removed, or failing to be).</summary>
    public bool HasDataOf(string handle, out string? error)
    {
        lock (sync)
        {
            if (!byHandle.ContainsKey(handle))
            {
                error = null;
                return false;
            }

            error = graves.Values.FirstOrDefault(g => g.Handle == handle && g.Error is not null)?.Error;
            return true;
        }
    }

    /// <summary>Hands <paramref name="path"/> to the background removal (due at once, or after <paramref name="error"/>'s backoff).</summary>
    public void Add(string path, string? error = null)
    {
        lock (sync)
        {
            var grave = Track(path);
            grave.Busy = false;
            if (error is not null)
            {
                Failed(grave, error);
            }
            else
            {
                due.Enqueue(grave, grave.Due);
            }
        }

        wake.Writer.TryWrite(true);
    }

    /// <summary>
    /// Removes <paramref name="path"/> now, on the caller's time, until <paramref name="deadline"/>.
    /// True when it is gone; otherwise the background removal carries on with it.
    /// </summary>
    public async Task<bool> RemoveNowAsync(string path, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        Grave grave;
        lock (sync)
        {
            grave = Track(path);
            grave.Busy = true;
        }

        var left = deadline - DateTimeOffset.UtcNow;
        if (left <= TimeSpan.Zero)
        {
            Add(path);
            return false;
        }

        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(left);
        try
        {
            await Task.Run(() => DriverOf(path).Remove(path, budget.Token), budget.Token);
            Forget(grave, announce: false);
            return true;
        }
        catch (OperationCanceledException)
        {
            Add(path);
            return false;
        }
        catch (Exception ex)
        {
            Add(path, ex.Message);
            return false;
        }
    }

    /// <summary>Finds what is in <c>dead/</c> and not known yet (left by an earlier run, or by another process).</summary>
    public int Scan()
    {
        var found = 0;
        foreach (var path in Directory.EnumerateFileSystemEntries(DeadPath))
        {
            lock (sync)
            {
                if (graves.ContainsKey(path))
                {
                    continue;
                }

                var grave = Track(path);
                due.Enqueue(grave, grave.Due);
                found++;
            }
        }

        if (found > 0)
        {
            wake.Writer.TryWrite(true);
        }

        return found;
    }

    /// <summary>Tries every due leftover once, until <paramref name="deadline"/>; the number removed.</summary>
    public int RemoveDue(DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        var removed = 0;
        while (DateTimeOffset.UtcNow < deadline && !cancellationToken.IsCancellationRequested && NextDue() is { } grave)
        {
            try
            {
                DriverOf(grave.Path).Remove(grave.Path, cancellationToken);
                Forget(grave, announce: true);
                removed++;
            }
            catch (OperationCanceledException)
            {
                lock (sync)
                {
                    grave.Busy = false;
                    due.Enqueue(grave, grave.Due);
                }

                break;
            }
            catch (Exception ex)
            {
                lock (sync)
                {
                    grave.Busy = false;
                    Failed(grave, ex.Message);
                }
            }
        }

        return removed;
    }

    /// <summary>The background loop: removes due leftovers, sleeps until the next is due or one is added, rescans <c>dead/</c> now and then.</summary>
    public async Task RunAsync(LoopState state, CancellationToken stoppingToken)
    {
        var lastScan = DateTimeOffset.UtcNow;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                RemoveDue(DateTimeOffset.UtcNow + TimeSpan.FromSeconds(5), stoppingToken);
                if (DateTimeOffset.UtcNow - lastScan > settings.RescanInterval)
                {
                    Scan();
                    lastScan = DateTimeOffset.UtcNow;
                }

                state.Succeeded();
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                state.Failed(ex);
                logger.LogWarning("The reaper failed: {Message}; it goes on", ex.Message);
            }

            var wait = UntilNextDue() ?? settings.RescanInterval;
            using var sleep = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            sleep.CancelAfter(wait < TimeSpan.Zero ? TimeSpan.Zero : wait);
            try
            {
                await wake.Reader.WaitToReadAsync(sleep.Token);
                wake.Reader.TryRead(out _);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                // time for the next due leftover, or a rescan
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Handles whose data was removed in the background since the last call.</summary>
    public IReadOnlyList<string> TakeGone()
    {
        lock (sync)
        {
            var taken = gone.ToList();
            gone.Clear();
            return taken;
        }
    }

    private VolumeDriver DriverOf(string path) =>
        VolumeMetadata.Read(path) is { } metadata ? drivers.For(metadata.DriverName) : drivers.For(NaiveDriver.Kind);

    /// <summary>The grave of <paramref name="path"/>, known from now on (called under the lock).</summary>
    private Grave Track(string path)
    {
        if (!graves.TryGetValue(path, out var grave))
        {
            grave = new Grave(path, HandleOf(path));
            graves[path] = grave;
            if (grave.Handle is not null)
            {
                byHandle[grave.Handle] = byHandle.GetValueOrDefault(grave.Handle) + 1;
            }
        }

        return grave;
    }

    /// <summary>The next leftover due now, taken (busy); queue entries of removed, busy or rescheduled graves are dropped.</summary>
    private Grave? NextDue()
    {
        lock (sync)
        {
            var now = DateTimeOffset.UtcNow;
            while (due.TryPeek(out var grave, out var at) && at <= now)
            {
                due.Dequeue();
                if (grave.Busy || grave.Due != at || !graves.ContainsKey(grave.Path))
                {
                    continue;
                }

                grave.Busy = true;
                return grave;
            }

            return null;
        }
    }

    private TimeSpan? UntilNextDue()
    {
        lock (sync)
        {
            while (due.TryPeek(out var grave, out var at) && (grave.Busy || grave.Due != at || !graves.ContainsKey(grave.Path)))
            {
                due.Dequeue();
            }

            return due.TryPeek(out _, out var next) ? next - DateTimeOffset.UtcNow : null;
        }
    }

    private void Forget(Grave grave, bool announce)
    {
        bool more;
        lock (sync)
        {
            graves.Remove(grave.Path);
            if (grave.Handle is not null)
            {
                if (byHandle[grave.Handle] <= 1)
                {
                    byHandle.Remove(grave.Handle);
                }
                else
                {
                    byHandle[grave.Handle]--;
                }
            }

            if (grave.Error is not null)
            {
                logger.LogInformation("Removed {Path} after {Attempts} failed attempts", grave.Path, grave.Attempts);
            }

            more = announce && grave.Handle is not null && !byHandle.ContainsKey(grave.Handle);
            if (more)
            {
                gone.Add(grave.Handle!);
            }
        }

        if (more)
        {
            Removed?.Invoke();
        }
    }

    /// <summary>Records a failed removal and when to try again (called under the lock).</summary>
    private void Failed(Grave grave, string error)
    {
        grave.Attempts++;
        grave.Error = error;
        var backoff = TimeSpan.FromTicks(Math.Min(
            settings.MaxBackoff.Ticks, settings.Backoff.Ticks * (1L << Math.Min(grave.Attempts - 1, 20))));
        grave.Due = DateTimeOffset.UtcNow + backoff;
        due.Enqueue(grave, grave.Due);
        metrics.RemovalFailed();
        logger.LogWarning(
            "Cannot remove {Path} (attempt {Attempts}, next in {Backoff}): {Error}",
            grave.Path, grave.Attempts, backoff, error);
    }

    private sealed class Grave(string path, string? handle)
    {
        public string Path { get; } = path;

        public string? Handle { get; } = handle;

        public DateTimeOffset Since { get; } = DateTimeOffset.UtcNow;

        public DateTimeOffset Due { get; set; } = DateTimeOffset.UtcNow;

        public int Attempts { get; set; }

        public string? Error { get; set; }

        public bool Busy { get; set; }
    }
}

/// <summary>How the reaper retries.</summary>
/// <param name="Backoff">The wait after a first failed removal, doubling per failure.</param>
/// <param name="MaxBackoff">The longest wait between attempts.</param>
/// <param name="RescanInterval">How often <c>dead/</c> is looked at for leftovers the reaper was not told about.</param>
internal sealed record ReaperSettings(TimeSpan Backoff, TimeSpan MaxBackoff, TimeSpan RescanInterval);
