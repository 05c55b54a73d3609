using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Atc.Gc.Collection;

/// <summary>How the last passes went, for the health check and for operators.</summary>
public sealed class CollectorHealth(TimeProvider time)
{
    private readonly Lock sync = new();

    public CollectorHealth()
        : this(TimeProvider.System)
    {
    }

    /// <summary>When this process's collector came to be: a pass is expected within <see cref="CollectorOptions.StaleAfter"/> of it.</summary>
    public DateTimeOffset CreatedAt { get; } = time.GetUtcNow();

    public DateTimeOffset? LastPassAt { get; private set; }

    /// <summary>Passes run by this process.</summary>
    public long Passes { get; private set; }

    public DateTimeOffset? LastSuccessfulPassAt { get; private set; }

    public int ConsecutiveFailedPasses { get; private set; }

    public string? LastError { get; private set; }

    /// <summary>Set while an operator has paused collection (as the last pass saw it).</summary>
    public CollectionPause? Paused { get; private set; }

    public void Record(PassReport report, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(report);
        lock (sync)
        {
            LastPassAt = now;
            Passes++;
            Paused = report.Paused;
            if (report.Paused is not null)
            {
                return;
            }

            if (report.Failed)
            {
                ConsecutiveFailedPasses++;
                LastError = string.Join("; ", report.Collectors.Where(c => c.Failed).Select(c => $"{c.Collector}: {c.Error}"));
            }
            else
            {
                ConsecutiveFailedPasses = 0;
                LastSuccessfulPassAt = now;
                LastError = null;
            }
        }
    }
}

/// <summary>
/// Unhealthy once <see cref="CollectorOptions.UnhealthyAfterFailedPasses"/> passes in a row had a failing
/// collector (degraded after one), or when no pass has finished for <see cref="CollectorOptions.StaleAfter"/>.
/// </summary>
public sealed class CollectorHealthCheck(CollectorHealth health, IOptions<CollectorOptions> options, TimeProvider? time = null) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>
        {
            ["consecutiveFailedPasses"] = health.ConsecutiveFailedPasses,
            ["lastPassAt"] = health.LastPassAt?.ToString("O") ?? "never",
            ["lastSuccessfulPassAt"] = health.LastSuccessfulPassAt?.ToString("O") ?? "never",
            ["failingCollectors"] = health.LastError ?? "none",
            ["paused"] = health.Paused is not null,
        };
        var quiet = (time ?? TimeProvider.System).GetUtcNow() - (health.LastPassAt ?? health.CreatedAt);
        if (quiet > options.Value.StaleAfter)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(
                $"no collection pass has finished for {quiet.TotalSeconds:F0} s (Collector:StaleAfter is {options.Value.StaleAfter})", data: data));
        }
        if (health.Paused is { } paused)
        {
            data["pausedBy"] = paused.PausedBy ?? "unknown";
            data["pausedAt"] = paused.PausedAt?.ToString("O") ?? "unknown";
            return Task.FromResult(HealthCheckResult.Degraded(
                $"collection is paused by {paused.PausedBy} since {paused.PausedAt:O}{(paused.Reason is null ? string.Empty : ": " + paused.Reason)}; 'atc-gc gc resume' resumes it",
                data: data));
        }

        var result = health.ConsecutiveFailedPasses switch
        {
            0 => HealthCheckResult.Healthy("collection passes succeed", data),
            var n when n >= options.Value.UnhealthyAfterFailedPasses =>
                HealthCheckResult.Unhealthy($"{n} collection passes in a row failed: {health.LastError}", data: data),
            var n => HealthCheckResult.Degraded($"{n} collection pass(es) in a row failed: {health.LastError}", data: data),
        };
        return Task.FromResult(result);
    }
}
