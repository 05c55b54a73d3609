using Atc.Gc.Benchmarks;

namespace Atc.Gc.UnitTests;

public sealed class BenchmarkStatsTests
{
    private static TimeSpan Seconds(double value) => TimeSpan.FromSeconds(value);

    [Fact]
    public void The_median_of_an_odd_count_is_the_middle_value()
    {
        Assert.Equal(Seconds(5), Stats.Median([Seconds(9), Seconds(1), Seconds(5)]));
    }

    [Fact]
    public void The_median_of_an_even_count_is_the_mean_of_the_two_middle_values()
    {
        Assert.Equal(3.0, Stats.Median([4.0, 1.0, 2.0, 10.0]));
    }

    [Fact]
    public void A_ratio_is_taken_run_by_run_so_a_slow_phase_of_the_machine_does_not_move_it()
    {
        // The machine halves its speed for the last two runs; each pair still shows 1.2×.
        TimeSpan[] ours = [Seconds(1.2), Seconds(1.2), Seconds(1.2), Seconds(2.4), Seconds(2.4)];
        TimeSpan[] floor = [Seconds(1.0), Seconds(1.0), Seconds(1.0), Seconds(2.0), Seconds(2.0)];

        Assert.Equal(1.2, Stats.MedianRatio(ours, floor), precision: 9);
    }

    [Fact]
    public void One_outlying_pair_does_not_move_the_median_ratio()
    {
        TimeSpan[] http = [Seconds(5), Seconds(5), Seconds(20), Seconds(5), Seconds(5)];
        TimeSpan[] local = [Seconds(4.5), Seconds(4.5), Seconds(4.5), Seconds(4.5), Seconds(4.5)];

        Assert.Equal(0.9, Stats.MedianRatio(local, http), precision: 9);
    }

    [Fact]
    public void Ratios_need_as_many_runs_on_each_side()
    {
        var error = Assert.Throws<ArgumentException>(() => Stats.MedianRatio([Seconds(1), Seconds(2)], [Seconds(1)]));
        Assert.Contains("pairs", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(50, 50)]
    [InlineData(99, 99)]
    [InlineData(100, 100)]
    [InlineData(1, 1)]
    public void A_percentile_is_the_nearest_rank(double percentile, double expected)
    {
        var values = Enumerable.Range(1, 100).Select(i => (double)i).Reverse().ToList();

        Assert.Equal(expected, Stats.Percentile(values, percentile));
    }

    [Fact]
    public void Nothing_measured_has_no_percentile_or_median()
    {
        Assert.True(double.IsNaN(Stats.Percentile([], 99)));
        Assert.True(double.IsNaN(Stats.Median(Array.Empty<double>())));
    }
}
