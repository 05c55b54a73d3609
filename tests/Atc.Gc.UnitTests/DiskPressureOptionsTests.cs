using System.ComponentModel.DataAnnotations;
using Atc.Gc.Collection;
using Atc.Gc.Collection.DiskPressure;

namespace Atc.Gc.UnitTests;

/// <summary><c>Collector:DiskPressure</c>: defaults, per-worker overrides, and refusals that name the key.</summary>
public sealed class DiskPressureOptionsTests
{
    [Fact]
    public void The_defaults_evict_only_above_90_percent_down_to_80_with_no_reserve_and_no_cache_limit()
    {
        var options = new CollectorOptions();

        Assert.True(options.DiskPressure.Enabled);
        Assert.Equal(new DiskPressurePolicy(90, 80, 0, 0), options.DiskPressure.For("any"));
        Assert.Empty(Validate(options));
    }

    [Fact]
    public void A_worker_override_replaces_only_the_limits_it_sets()
    {
        var options = new DiskPressureOptions { ReservedFreeBytes = 1024 };
        options.Workers["small"] = new DiskPressureLimits { HighWatermarkPercent = 70, MaxKeptCacheBytes = 4096 };

        Assert.Equal(new DiskPressurePolicy(70, 80, 1024, 4096), options.For("small"));
        Assert.Equal(new DiskPressurePolicy(90, 80, 1024, 0), options.For("other"));
    }

    [Fact]
    public void A_low_watermark_not_below_the_high_one_is_refused_with_its_key()
    {
        var options = new CollectorOptions();
        options.DiskPressure.Workers["small"] = new DiskPressureLimits { HighWatermarkPercent = 75 };

        var errors = Validate(options);

        Assert.Contains(errors, e => e.StartsWith("Collector:DiskPressure:Workers:small:LowWatermarkPercent", StringComparison.Ordinal));
        Assert.DoesNotContain(errors, e => e.StartsWith("Collector:DiskPressure:LowWatermarkPercent", StringComparison.Ordinal));
    }

    [Fact]
    public void Out_of_range_limits_are_refused()
    {
        var options = new CollectorOptions();
        options.DiskPressure.HighWatermarkPercent = 101;
        options.DiskPressure.ReservedFreeBytes = -1;
        options.DiskPressure.MaxKeptCacheBytes = -1;

        var errors = Validate(options);

        Assert.Contains(errors, e => e.StartsWith("Collector:DiskPressure:HighWatermarkPercent", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Collector:DiskPressure:ReservedFreeBytes", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Collector:DiskPressure:MaxKeptCacheBytes", StringComparison.Ordinal));
    }

    private static List<string> Validate(CollectorOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return [.. results.Select(r => r.ErrorMessage ?? string.Empty)];
    }
}
