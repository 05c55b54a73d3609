namespace Atc.Gc.Benchmarks;

/// <summary>
/// The summaries the scenarios report. This machine's speed drifts between runs (other guests take
/// its cores), so two things compared are measured in alternating runs and their ratio is the median
/// of the ratios of adjacent runs, which the drift between runs does not move.
/// </summary>
public static class Stats
{
    public static TimeSpan Median(IReadOnlyList<TimeSpan> times)
    {
        ArgumentNullException.ThrowIfNull(times);
        return TimeSpan.FromTicks((long)Median(times.Select(t => (double)t.Ticks).ToList()));
    }

    public static double Median(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /// <summary>The median over runs of <paramref name="numerator"/>[i] / <paramref name="denominator"/>[i].</summary>
    public static double MedianRatio(IReadOnlyList<TimeSpan> numerator, IReadOnlyList<TimeSpan> denominator)
    {
        ArgumentNullException.ThrowIfNull(numerator);
        ArgumentNullException.ThrowIfNull(denominator);
        if (numerator.Count != denominator.Count)
        {
            throw new ArgumentException($"{numerator.Count} runs against {denominator.Count}: ratios need pairs");
        }

        return Median(numerator.Zip(denominator, (a, b) => a / b).ToList());
    }

    /// <summary>The nearest-rank percentile.</summary>
    public static double Percentile(IReadOnlyList<double> values, double percentile)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(percentile / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
    }
}
