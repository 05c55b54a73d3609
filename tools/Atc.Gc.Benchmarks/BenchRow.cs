namespace Atc.Gc.Benchmarks;

/// <summary>One measured line of the report.</summary>
/// <param name="Items">What was processed (volumes marked, deleted, operations).</param>
/// <param name="Ratio">A comparison, as text (for example "1.08× the floor").</param>
/// <param name="Target">The target this row is checked against, or empty.</param>
/// <param name="Met">Whether the target is met; null when the row has no target.</param>
public sealed record BenchRow(
    string Scenario,
    string Variant,
    long Items,
    TimeSpan Time,
    long? PeakBytes = null,
    string Ratio = "",
    string Target = "",
    bool? Met = null,
    string Note = "")
{
    public double ItemsPerSecond => Time.TotalSeconds > 0 ? Items / Time.TotalSeconds : 0;
}
