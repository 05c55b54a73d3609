using System.Collections.Concurrent;
using System.Diagnostics;

namespace Atc.Gc.Cli.Demo;

/// <summary>
/// What the demo knows independently of the system under test: which volumes builds are using right
/// now, when a volume was released, how large each volume is, and what disappeared from the disks.
/// </summary>
internal sealed class DemoLedger
{
    private readonly ConcurrentDictionary<string, int> inUse = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> releasedAt = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> sizes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> workerOf = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> down = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> releasedDuringOutage = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<double> outageLatencies = new();
    private readonly ConcurrentQueue<double> latencies = new();
    private readonly ConcurrentQueue<string> violations = new();
    private long reclaimedVolumes;
    private long reclaimedBytes;
    private long builds;
    private long erroredBuilds;
    private long volumesCreated;
    private long childrenRefused;

    public Stopwatch Clock { get; } = Stopwatch.StartNew();

    public long Builds => Interlocked.Read(ref builds);

    public long ErroredBuilds => Interlocked.Read(ref erroredBuilds);

    public long VolumesCreated => Interlocked.Read(ref volumesCreated);

    public long ChildrenRefused => Interlocked.Read(ref childrenRefused);

    public long ReclaimedVolumes => Interlocked.Read(ref reclaimedVolumes);

    public long ReclaimedBytes => Interlocked.Read(ref reclaimedBytes);

    public string? LastError { get; set; }

    public IReadOnlyCollection<string> Violations => [.. violations];

    /// <summary>Reclaim latencies of volumes released while their worker was up.</summary>
    public IReadOnlyList<double> Latencies => [.. latencies];

    /// <summary>Reclaim latencies of volumes released while their worker was down: they wait for it.</summary>
    public IReadOnlyList<double> OutageLatencies => [.. outageLatencies];

    public void WorkerDown(string worker) => down[worker] = true;

    public void WorkerUp(string worker) => down.TryRemove(worker, out _);

    public void Created(string handle, string worker, long bytes)
    {
        sizes[handle] = bytes;
        workerOf[handle] = worker;
        Interlocked.Increment(ref volumesCreated);
    }

    public long SizeOf(string handle) => sizes.GetValueOrDefault(handle);

    public void Hold(string handle) => inUse.AddOrUpdate(handle, 1, (_, n) => n + 1);

    public void Unhold(string handle) => inUse.AddOrUpdate(handle, 0, (_, n) => Math.Max(0, n - 1));

    public bool InUse(string handle) => inUse.TryGetValue(handle, out var n) && n > 0;

    /// <summary>Nothing needs these volumes any more as of now: their reclaim latency is measured from here.</summary>
    public void Released(IEnumerable<string> handles)
    {
        var now = Clock.ElapsedTicks;
        foreach (var handle in handles)
        {
            releasedAt.TryAdd(handle, now);
            if (workerOf.TryGetValue(handle, out var worker) && down.ContainsKey(worker))
            {
                releasedDuringOutage[handle] = true;
            }
        }
    }

    public void BuildFinished(bool errored)
    {
        Interlocked.Increment(ref builds);
        if (errored)
        {
            Interlocked.Increment(ref erroredBuilds);
        }
    }

    public void ChildRefused() => Interlocked.Increment(ref childrenRefused);

    /// <summary>A volume disappeared from a worker's disk.</summary>
    public void Disappeared(string worker, string handle)
    {
        if (InUse(handle))
        {
            violations.Enqueue($"{handle} on {worker} was deleted while a running build used it");
        }

        Interlocked.Increment(ref reclaimedVolumes);
        Interlocked.Add(ref reclaimedBytes, SizeOf(handle));
        if (releasedAt.TryRemove(handle, out var released))
        {
            var seconds = (Clock.ElapsedTicks - released) / (double)Stopwatch.Frequency;
            (releasedDuringOutage.TryRemove(handle, out _) ? outageLatencies : latencies).Enqueue(seconds);
        }
    }

    public static double Percentile(IReadOnlyList<double> values, double percentile)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(percentile / 100 * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }
}
