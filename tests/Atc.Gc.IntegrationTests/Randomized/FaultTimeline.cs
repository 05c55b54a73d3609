namespace Atc.Gc.IntegrationTests.Randomized;

/// <summary>When each fault was on, so a reclaim latency can be told apart by the faults its window overlapped.</summary>
internal sealed class FaultTimeline
{
    private readonly Lock sync = new();
    private readonly List<Interval> intervals = [];

    /// <summary>A fault begins; dispose the result when it ends.</summary>
    public IDisposable Begin(string what, bool hang = false)
    {
        var interval = new Interval(what, hang, DateTime.UtcNow);
        lock (sync)
        {
            intervals.Add(interval);
        }

        return interval;
    }

    /// <summary><c>none</c>, <c>an agent hung</c> (only hangs overlapped), or <c>other faults</c>.</summary>
    public string During(DateTime from, DateTime to)
    {
        lock (sync)
        {
            var overlapping = intervals.Where(i => i.Start <= to && (i.End ?? DateTime.MaxValue) >= from).ToList();
            return overlapping.Count == 0 ? "none" : overlapping.All(i => i.Hang) ? "an agent hung" : "other faults";
        }
    }

    private sealed class Interval(string what, bool hang, DateTime start) : IDisposable
    {
        public string What { get; } = what;

        public bool Hang { get; } = hang;

        public DateTime Start { get; } = start;

        public DateTime? End { get; private set; }

        public void Dispose() => End ??= DateTime.UtcNow;
    }
}
