using System.Diagnostics.Metrics;

namespace Atc.Gc.Telemetry;

/// <summary>
/// Bucket boundaries for histograms recorded in seconds, given as the instrument's advice: without
/// it an exporter uses its default boundaries, sized for milliseconds (0, 5, 10, 25 … 10000), and
/// every pass, collector run or volume operation lands in the first bucket.
/// </summary>
public static class SecondsBuckets
{
    /// <summary>From 5 ms (a small collector on an idle database) to 10 minutes (a pass over a very large backlog).</summary>
    public static IReadOnlyList<double> Boundaries { get; } =
        [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

    public static InstrumentAdvice<double> Advice { get; } = new() { HistogramBucketBoundaries = Boundaries };

    /// <summary>A histogram in seconds with <see cref="Boundaries"/>.</summary>
    public static Histogram<double> CreateSecondsHistogram(this Meter meter, string name, string description)
    {
        ArgumentNullException.ThrowIfNull(meter);
        return meter.CreateHistogram(name, "s", description, tags: null, advice: Advice);
    }
}
