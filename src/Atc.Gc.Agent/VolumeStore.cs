using System.Diagnostics;
using System.Text.Json;
using Atc.Gc.Agent.Drivers;
using Atc.Gc.Agent.Native;
using Atc.Gc.Agent.Storage;
using Atc.Gc.Model;
using Atc.Gc.Workers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Atc.Gc.Agent;

/// <summary>
/// Volumes as directories under a root, safe against crashes at any point and against concurrent
/// requests for the same handle:
/// <list type="bullet">
/// <item><c>volumes/&lt;handle&gt;/</c> holds a volume: <c>data/</c> (what a container mounts) and <c>volume.json</c>,
/// plus the driver's own parts (an overlay child's <c>upper/</c> and <c>work/</c>);</item>
/// <item>a volume is made in <c>creating/</c> by the driver and renamed into place in one step, so a half-made volume is never listed;</item>
/// <item>a deleted one is renamed into <c>dead/</c> (one step: it is gone from the listing) and its data
/// removed within the request's budget, or else by the reaper in the background;</item>
/// <item>the listing is kept in memory (<see cref="Recover"/> builds it from disk on start, reports refresh it).</item>
/// </list>
/// A create and a delete of one handle take its lock; a parent with children (or one being made) cannot be deleted.
/// </summary>
public sealed class VolumeStore
{
    private readonly VolumeDrivers drivers;
    private readonly StoreSettings settings;
    private readonly ILogger logger;
    private readonly VolumeIndex index = new();
    private readonly HandleLocks locks = new();

    internal VolumeStore(string root, VolumeDrivers drivers, StoreSettings settings, AgentMetrics metrics, ILogger logger)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Root = Path.GetFullPath(root);
        this.drivers = drivers;
        this.settings = settings;
        this.logger = logger;
        Metrics = metrics;
        Directory.CreateDirectory(VolumesPath);
        Directory.CreateDirectory(CreatingPath);
        Directory.CreateDirectory(Path.Combine(Root, "dead"));
        Reaper = new VolumeReaper(Root, drivers, settings.Reaper, metrics, logger);
    }

    public string Root { get; }

    /// <summary>The driver new volumes are made with (<c>naive</c>, <c>overlay</c> or <c>btrfs</c>).</summary>
    public string DriverName => drivers.Chosen.Name;

    /// <summary>True when the driver makes a child without copying its parent.</summary>
    internal bool CopyOnWrite => drivers.Chosen.CopyOnWrite;

    /// <summary>Volumes held.</summary>
    internal int Count => index.Count;

    /// <summary>What the reaper still has to remove.</summary>
    internal IReadOnlyList<Leftover> Leftovers => Reaper.Leftovers;

    /// <summary>Volumes whose data could not be brought back after a restart, and why.</summary>
    internal IReadOnlyDictionary<string, string> Problems =>
        index.All().Where(e => e.Problem is not null).ToDictionary(e => e.Handle, e => e.Problem!, StringComparer.Ordinal);

    internal VolumeReaper Reaper { get; }

    internal AgentMetrics Metrics { get; }

    private string VolumesPath => Path.Combine(Root, "volumes");

    private string CreatingPath => Path.Combine(Root, "creating");

    /// <summary>
    /// A store on <paramref name="root"/> with <paramref name="driver"/> (<c>detect</c>, <c>overlay</c>,
    /// <c>naive</c>, <c>btrfs</c>) — for tools that work on an agent's directory. With <paramref name="recover"/>
    /// it is recovered (<see cref="Recover"/>); without, only the listing is read (an agent may be running on it).
    /// </summary>
    public static VolumeStore Open(string root, string driver = NaiveDriver.Kind, ILogger? logger = null, bool recover = true)
    {
        logger ??= NullLogger.Instance;
        var full = Path.GetFullPath(root);
        Directory.CreateDirectory(full);
        var store = new VolumeStore(full, VolumeDrivers.Choose(full, driver, logger), StoreSettings.Default, new AgentMetrics(), logger);
        if (recover)
        {
            store.Recover();
        }
        else
        {
            store.Reconcile();
        }

        return store;
    }

    /// <summary>
    /// Brings the store back after a restart or a reboot, never stopping at what it cannot fix: the
    /// listing is read from disk, volumes are mounted again where their driver needs it (one that cannot
    /// be is kept, listed, and named in health), half-made volumes and anything in <c>volumes/</c> that is
    /// not a volume go to <c>dead/</c>, and what is in <c>dead/</c> is removed — within
    /// <paramref name="budget"/> (2 s), the rest in the background, retried until it can be.
    /// </summary>
    internal RecoverySummary Recover(TimeSpan? budget = null)
    {
        var mounts = Mounts.MountPoints();
        foreach (var staging in Directory.EnumerateFileSystemEntries(CreatingPath).ToList())
        {
            Bury(staging, mounts, "a half-made volume");
        }

        int volumes = 0, remounted = 0, problems = 0;
        foreach (var directory in Directory.EnumerateFileSystemEntries(VolumesPath).ToList())
        {
            var name = Path.GetFileName(directory);
            var metadata = HandleFormat.IsValid(name) && Directory.Exists(directory) ? VolumeMetadata.Read(directory) : null;
            if (metadata is null)
            {
                Bury(directory, mounts, "not a volume (no readable volume.json)");
                continue;
            }

            var entry = new VolumeEntry(metadata with { Handle = name });
            var wasMounted = mounts.Contains(Path.Combine(directory, VolumeDriver.DataDirectory));
            try
            {
                drivers.For(metadata.DriverName).Recover(directory, entry.Metadata, mounts);
                if (metadata.IsOverlay && !wasMounted)
                {
                    remounted++;
                }
            }
            catch (Exception ex)
            {
                entry.Problem = ex.Message;
                problems++;
                logger.LogWarning("Volume {Handle} is kept but its data is not usable: {Error}", name, ex.Message);
            }

            index.Add(entry);
            volumes++;
        }

        var leftovers = Reaper.Scan();
        var removed = Reaper.RemoveDue(DateTimeOffset.UtcNow + (budget ?? TimeSpan.FromSeconds(2)), CancellationToken.None);
        logger.LogInformation(
            "Volume store in {Root} ({Driver}): {Volumes} volumes, {Remounted} mounted again, {Problems} not usable; {Leftovers} leftovers, {Removed} removed, the rest left to the reaper",
            Root, DriverName, volumes, remounted, problems, leftovers, removed);
        return new RecoverySummary(volumes, remounted, problems, leftovers, removed);
    }

    /// <summary>The directory holding a volume's content (what a container would mount).</summary>
    public string DataPathOf(string handle) => Path.Combine(VolumePath(handle), VolumeDriver.DataDirectory);

    /// <summary>
    /// Makes a volume under its handle's lock: empty, or a child of a parent the agent holds (which is
    /// held too, so it cannot be deleted meanwhile). Cancelling stops a copy and leaves nothing behind.
    /// </summary>
    public async Task<(CreateOutcome Outcome, VolumeInfo? Volume)> CreateAsync(
        string handle, VolumeStrategy strategy, IReadOnlyDictionary<string, string> properties, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var outcome = "error";
        try
        {
            var result = await CreateUnderLockAsync(handle, strategy, properties, cancellationToken);
            outcome = JsonNamingPolicy.SnakeCaseLower.ConvertName(result.Outcome.ToString());
            return result;
        }
        finally
        {
            Metrics.CreateEnded(outcome, Stopwatch.GetElapsedTime(started));
        }
    }

    private async Task<(CreateOutcome Outcome, VolumeInfo? Volume)> CreateUnderLockAsync(
        string handle, VolumeStrategy strategy, IReadOnlyDictionary<string, string> properties, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        ArgumentNullException.ThrowIfNull(properties);
        var target = VolumePath(handle);
        using var held = await locks.AcquireAsync(handle, cancellationToken);
        if (index.TryGet(handle, out _) || Directory.Exists(target))
        {
            return (CreateOutcome.AlreadyExists, null);
        }

        VolumeEntry? parent = null;
        if (strategy.Parent is { } parentHandle && !index.TryHoldParent(HandleFormat.Validate(parentHandle, nameof(strategy)), out parent))
        {
            return (CreateOutcome.ParentNotFound, null);
        }

        try
        {
            if (parent?.Problem is not null)
            {
                return (CreateOutcome.ParentUnusable, null);
            }

            if (!HasRoomFor(parent))
            {
                return (CreateOutcome.NoSpace, null);
            }

            var entry = await MakeAsync(handle, parent, properties, cancellationToken);
            return entry is null ? (CreateOutcome.AlreadyExists, null) : (CreateOutcome.Created, entry.ToInfo());
        }
        finally
        {
            if (parent is not null)
            {
                index.ReleaseParent(parent.Handle);
            }
        }
    }

    /// <summary>Deletes one volume; see <see cref="DeleteAsync(IReadOnlyList{string}, TimeSpan, CancellationToken)"/>.</summary>
    public async Task<DestroyVolumeResult> DeleteAsync(string handle, TimeSpan budget, CancellationToken cancellationToken) =>
        (await DeleteAsync([handle], budget, cancellationToken))[0];

    /// <summary>
    /// Deletes volumes, one result per handle, never throwing for one of them: each is renamed into
    /// <c>dead/</c> under its lock and its data removed while <paramref name="budget"/> lasts —
    /// <see cref="DestroyOutcome.Deleted"/> when it is all gone, <see cref="DestroyOutcome.Pending"/> when the
    /// reaper carries on (or data of it is still in <c>dead/</c> from an earlier delete),
    /// <see cref="DestroyOutcome.NotFound"/> when nothing of it is on disk, and
    /// <see cref="DestroyOutcome.Failed"/> when it has children or could not be taken out of the listing.
    /// </summary>
    public async Task<IReadOnlyList<DestroyVolumeResult>> DeleteAsync(IReadOnlyList<string> handles, TimeSpan budget, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handles);
        var deadline = DateTimeOffset.UtcNow + budget;
        var results = new List<DestroyVolumeResult>(handles.Count);
        foreach (var handle in handles.Distinct(StringComparer.Ordinal))
        {
            var started = Stopwatch.GetTimestamp();
            var result = await DeleteOneAsync(handle, deadline, cancellationToken);
            Metrics.DeleteEnded(result.Outcome, Stopwatch.GetElapsedTime(started));
            results.Add(result);
        }

        return results;
    }

    /// <summary>Handles whose data is still being removed (in <c>dead/</c>): not gone yet.</summary>
    public IReadOnlyList<string> Deleting() => Reaper.Handles;

    public VolumeInfo? Find(string handle) => index.TryGet(HandleFormat.Validate(handle, nameof(handle)), out var entry) ? entry.ToInfo() : null;

    /// <summary>Every volume, from memory, with its size as last measured (zero when <paramref name="withSizes"/> is false).</summary>
    public IReadOnlyList<VolumeInfo> List(bool withSizes = true) =>
        [.. index.All().Select(e => withSizes ? e.ToInfo() : e.ToInfo() with { SizeBytes = 0 })];

    /// <summary>
    /// Measures a volume's size now (a bounded walk: at most <c>Agent:SizeWalkLimit</c> entries, stopped
    /// when <paramref name="cancellationToken"/> fires); a walk cut short keeps the last complete measurement.
    /// </summary>
    public async Task<VolumeInfo?> MeasureAsync(string handle, CancellationToken cancellationToken)
    {
        if (!index.TryGet(HandleFormat.Validate(handle, nameof(handle)), out var entry))
        {
            return null;
        }

        await Task.Run(() => Measure(entry, cancellationToken), cancellationToken);
        return entry.ToInfo();
    }

    /// <summary>Measures the volumes not measured for <paramref name="olderThan"/>, least recently measured first; the number measured.</summary>
    internal int MeasureStale(TimeSpan olderThan, CancellationToken cancellationToken)
    {
        var before = DateTimeOffset.UtcNow - olderThan;
        var measured = 0;
        foreach (var entry in index.All().Where(e => e.SizedAt is null || e.SizedAt < before).OrderBy(e => e.SizedAt ?? DateTimeOffset.MinValue))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (index.TryGet(entry.Handle, out var current) && ReferenceEquals(current, entry))
            {
                Measure(entry, cancellationToken);
                measured++;
            }
        }

        return measured;
    }

    /// <summary>The filesystem's capacity and free space (within <c>Agent:MaxBytes</c>), and what the volumes take. Never walks the disk.</summary>
    internal DiskFigures Disk()
    {
        var used = index.All().Sum(e => e.SizeBytes);
        var space = FileSystemSpace.Of(Root);
        return settings.MaxBytes is { } max
            ? new DiskFigures(Math.Min(max, space.CapacityBytes), Math.Max(0, Math.Min(space.FreeBytes, max - used)), used)
            : new DiskFigures(space.CapacityBytes, space.FreeBytes, used);
    }

    /// <summary>
    /// Brings the listing in line with <c>volumes/</c> (directory names only; metadata is read only for
    /// volumes it did not know): what vanished behind the agent's back is dropped, what appeared is added.
    /// </summary>
    public int Reconcile()
    {
        var onDisk = Directory.EnumerateDirectories(VolumesPath).Select(Path.GetFileName).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var changed = 0;
        foreach (var entry in index.All().Where(e => !onDisk.Contains(e.Handle)))
        {
            if (!Directory.Exists(VolumePath(entry.Handle)))
            {
                index.Remove(entry.Handle);
                changed++;
            }
        }

        foreach (var handle in onDisk.Where(h => HandleFormat.IsValid(h) && !index.TryGet(h, out _)))
        {
            if (VolumeMetadata.Read(VolumePath(handle)) is { } metadata)
            {
                index.Add(new VolumeEntry(metadata with { Handle = handle }));
                changed++;
            }
        }

        return changed;
    }

    /// <summary>Tries again to bring back volumes whose data could not be (after a restart); the number fixed.</summary>
    internal int RetryProblems()
    {
        var fixedCount = 0;
        var mounts = Mounts.MountPoints();
        foreach (var entry in index.All().Where(e => e.Problem is not null))
        {
            try
            {
                drivers.For(entry.Metadata.DriverName).Recover(VolumePath(entry.Handle), entry.Metadata, mounts);
                entry.Problem = null;
                fixedCount++;
                logger.LogInformation("Volume {Handle} is usable again", entry.Handle);
            }
            catch (Exception ex)
            {
                entry.Problem = ex.Message;
            }
        }

        return fixedCount;
    }

    private async Task<VolumeEntry?> MakeAsync(string handle, VolumeEntry? parent, IReadOnlyDictionary<string, string> properties, CancellationToken cancellationToken)
    {
        var staging = Path.Combine(CreatingPath, $"{handle}.{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            var made = parent is null
                ? await drivers.Chosen.CreateEmptyAsync(staging, cancellationToken)
                : await drivers.Chosen.CreateChildAsync(staging, VolumePath(parent.Handle), parent.Metadata, cancellationToken);
            var metadata = new VolumeMetadata(handle, DateTimeOffset.UtcNow, parent?.Handle, new Dictionary<string, string>(properties), made.Driver, made.Layers);
            await metadata.WriteAsync(staging, cancellationToken);
            var target = VolumePath(handle);
            if (Directory.Exists(target))
            {
                Abandon(staging);
                return null;
            }

            Directory.Move(staging, target);
            var entry = new VolumeEntry(metadata);
            Measure(entry, CancellationToken.None);
            index.Add(entry);
            return entry;
        }
        catch
        {
            Abandon(staging);
            throw;
        }
    }

    private async Task<DestroyVolumeResult> DeleteOneAsync(string handle, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        string grave;
        try
        {
            HandleFormat.Validate(handle, nameof(handle));
            var lockWait = deadline - DateTimeOffset.UtcNow;
            using var held = await locks.TryAcquireAsync(handle, lockWait > settings.LockWait ? lockWait : settings.LockWait, cancellationToken);
            if (held is null)
            {
                return new DestroyVolumeResult(handle, DestroyOutcome.Pending, "a create of this volume is in progress");
            }

            if (!index.TryBeginDelete(handle, out var children))
            {
                return new DestroyVolumeResult(
                    handle, DestroyOutcome.Failed, $"the volume has live children ({string.Join(", ", children)}): they must be deleted first");
            }

            var removed = false;
            try
            {
                index.TryGet(handle, out var entry);
                grave = Reaper.NewGrave(handle);
                try
                {
                    Directory.Move(VolumePath(handle), grave);
                }
                catch (DirectoryNotFoundException)
                {
                    removed = true;
                    return Reaper.HasDataOf(handle, out var error)
                        ? new DestroyVolumeResult(handle, DestroyOutcome.Pending, error ?? StillRemoving)
                        : new DestroyVolumeResult(handle, DestroyOutcome.NotFound);
                }

                removed = true;
                Metrics.Deleted(entry?.SizeBytes ?? 0);
                if ((entry?.Metadata ?? VolumeMetadata.Read(grave)) is { } metadata)
                {
                    try
                    {
                        drivers.For(metadata.DriverName).Detach(grave, metadata);
                    }
                    catch (IOException ex)
                    {
                        logger.LogWarning("Could not unmount {Handle} at once ({Error}); the reaper will", handle, ex.Message);
                    }
                }
            }
            finally
            {
                index.EndDelete(handle, removed);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            return new DestroyVolumeResult(handle, DestroyOutcome.Failed, ex.Message);
        }

        if (await Reaper.RemoveNowAsync(grave, deadline, cancellationToken))
        {
            return new DestroyVolumeResult(handle, DestroyOutcome.Deleted);
        }

        Reaper.HasDataOf(handle, out var why);
        return new DestroyVolumeResult(handle, DestroyOutcome.Pending, why ?? StillRemoving);
    }

    private const string StillRemoving = "out of the listing; its data is still being removed";

    private void Measure(VolumeEntry entry, CancellationToken cancellationToken)
    {
        var layer = drivers.For(entry.Metadata.DriverName).OwnLayer(VolumePath(entry.Handle), entry.Metadata);
        var (bytes, complete) = DiskUsage.Measure(layer, settings.SizeWalkLimit, cancellationToken);
        if (complete)
        {
            entry.Sized(bytes, DateTimeOffset.UtcNow);
        }
        else if (entry.SizedAt is null)
        {
            // Better a lower bound than nothing; measured again on the next round.
            entry.Sized(bytes, DateTimeOffset.MinValue);
        }
    }

    private bool HasRoomFor(VolumeEntry? parent)
    {
        if (settings.MaxBytes is not { } max)
        {
            return true;
        }

        var used = index.All().Sum(e => e.SizeBytes);
        var needed = parent is not null && !drivers.Chosen.CopyOnWrite ? ChainBytes(parent) : 0;
        return used + needed < max;
    }

    /// <summary>What a full copy of a volume's content takes, about: its own size and its ancestors'.</summary>
    private long ChainBytes(VolumeEntry volume)
    {
        long bytes = 0;
        for (var current = volume; current is not null; current = current.Metadata.Parent is { } p && index.TryGet(p, out var next) ? next : null)
        {
            bytes += current.SizeBytes;
            if (!current.Metadata.IsOverlay)
            {
                break;
            }
        }

        return bytes;
    }

    /// <summary>Moves what a create left behind into <c>dead/</c> for the reaper (unmounting it first).</summary>
    private void Abandon(string staging)
    {
        Bury(staging, null, null);
    }

    private void Bury(string path, IReadOnlySet<string>? mounts, string? why)
    {
        var grave = Path.Combine(Reaper.DeadPath, Path.GetFileName(path));
        if (VolumeReaper.HandleOf(grave) is null || Directory.Exists(grave))
        {
            grave = Path.Combine(Reaper.DeadPath, $"{Path.GetFileName(path)}.{Guid.NewGuid():N}");
        }

        try
        {
            foreach (var point in Mounts.Under(path, mounts))
            {
                Mounts.Detach(point);
            }

            Directory.Move(path, grave);
            if (why is not null)
            {
                logger.LogInformation("Moved {Path} to dead/: {Why}", Path.GetRelativePath(Root, path), why);
            }

            Reaper.Add(grave);
        }
        catch (Exception ex)
        {
            logger.LogWarning("Could not move {Path} out of the way ({Error}); the reaper removes it where it is", path, ex.Message);
            Reaper.Add(path);
        }
    }

    private string VolumePath(string handle) => Path.Combine(VolumesPath, HandleFormat.Validate(handle, nameof(handle)));
}

/// <summary>How the store works: the cap on what volumes take, how long a delete waits for a create of the same handle, how much a size walk may look at, how the reaper retries.</summary>
internal sealed record StoreSettings(long? MaxBytes, TimeSpan LockWait, long SizeWalkLimit, ReaperSettings Reaper)
{
    public static StoreSettings Default { get; } = new(
        null, TimeSpan.FromSeconds(1), 1_000_000, new ReaperSettings(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(1)));
}
