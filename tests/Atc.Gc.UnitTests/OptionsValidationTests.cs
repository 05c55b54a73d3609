using System.ComponentModel.DataAnnotations;
using Atc.Gc.Collection;
using Atc.Gc.Workers;

namespace Atc.Gc.UnitTests;

public sealed class OptionsValidationTests
{
    [Fact]
    public void Default_collector_options_are_valid() => Assert.Empty(Validate(new CollectorOptions()));

    [Fact]
    public void An_interval_too_short_is_refused_with_its_key()
    {
        var errors = Validate(new CollectorOptions { Interval = TimeSpan.FromMilliseconds(5) });

        Assert.Contains(errors, e => e.StartsWith("Collector:Interval must be at least", StringComparison.Ordinal));
    }

    [Fact]
    public void A_batch_size_out_of_range_is_refused()
    {
        Assert.NotEmpty(Validate(new CollectorOptions { BatchSize = 0 }));
        Assert.NotEmpty(Validate(new CollectorOptions { DeleteBatchSize = VolumeProtocol.MaxHandlesPerDestroy + 1 }));
    }

    [Fact]
    public void A_maximum_backoff_shorter_than_the_first_is_refused() =>
        Assert.Contains(
            Validate(new CollectorOptions { RetryBackoff = TimeSpan.FromMinutes(2), MaxRetryBackoff = TimeSpan.FromMinutes(1) }),
            e => e.Contains("MaxRetryBackoff", StringComparison.Ordinal));

    [Fact]
    public void A_short_worker_secret_is_refused_and_a_missing_one_is_allowed_until_workers_are_called()
    {
        Assert.Contains(Validate(new WorkerClientOptions { TokenSecret = "short" }), e => e.Contains("TokenSecret", StringComparison.Ordinal));
        Assert.Empty(Validate(new WorkerClientOptions()));
    }

    [Fact]
    public void An_attempt_timeout_longer_than_the_total_is_refused() =>
        Assert.NotEmpty(Validate(new WorkerClientOptions { AttemptTimeout = TimeSpan.FromSeconds(20), TotalTimeout = TimeSpan.FromSeconds(10) }));

    private static List<string> Validate(object options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return [.. results.Select(r => r.ErrorMessage ?? string.Empty)];
    }
}
