namespace Atc.Gc.Collection;

/// <summary>What one collector did in one pass.</summary>
/// <param name="Examined">Rows the collector looked at as candidates.</param>
/// <param name="Changed">Rows it changed (released, deleted, marked, confirmed gone).</param>
/// <param name="Details">Finer counts, by name (for example per worker).</param>
/// <param name="Error">Why the collector failed this pass; it is retried on the next one.</param>
/// <param name="Skipped">Why this node left the collector to another this pass (it is running there, or ran there since).</param>
public sealed record CollectorReport(
    string Collector,
    long Examined,
    long Changed,
    TimeSpan Duration,
    IReadOnlyDictionary<string, long> Details,
    string? Error = null,
    string? Skipped = null)
{
    public bool Failed => Error is not null;
}

/// <summary>What one pass did, collector by collector, in the order they ran.</summary>
/// <param name="Paused">Set when collection is paused: nothing ran.</param>
public sealed record PassReport(DateTimeOffset StartedAt, TimeSpan Duration, bool DryRun, IReadOnlyList<CollectorReport> Collectors, CollectionPause? Paused = null)
{
    public bool Failed => Collectors.Any(c => c.Failed);

    public long Changed => Collectors.Sum(c => c.Changed);
}

/// <summary>Counts a collector accumulates while it runs; safe to add to from concurrent tasks.</summary>
public sealed class CollectorTally
{
    private readonly Dictionary<string, long> details = new(StringComparer.Ordinal);
    private long examined;
    private long changed;

    public long Examined => Interlocked.Read(ref examined);

    public long Changed => Interlocked.Read(ref changed);

    public void Add(ChunkTotals totals, string? detail = null)
    {
        AddExamined(totals.Examined);
        AddChanged(totals.Changed);
        if (detail is not null)
        {
            Add(detail, totals.Changed);
        }
    }

    public void Add(string detail, long count)
    {
        lock (details)
        {
            details[detail] = details.GetValueOrDefault(detail) + count;
        }
    }

    public void AddExamined(long count) => Interlocked.Add(ref examined, count);

    public void AddChanged(long count) => Interlocked.Add(ref changed, count);

    public IReadOnlyDictionary<string, long> Details
    {
        get
        {
            lock (details)
            {
                return new Dictionary<string, long>(details, StringComparer.Ordinal);
            }
        }
    }
}
