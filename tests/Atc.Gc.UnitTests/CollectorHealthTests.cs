using Atc.Gc.Collection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Atc.Gc.UnitTests;

/// <summary>Readiness wants a recent pass: none finished for <see cref="CollectorOptions.StaleAfter"/> is unhealthy.</summary>
public sealed class CollectorHealthTests
{
    private readonly WallClock clock = new();

    [Fact]
    public async Task No_pass_within_the_stale_limit_is_unhealthy_and_a_pass_makes_it_healthy_again()
    {
        var health = new CollectorHealth(clock);
        var check = new CollectorHealthCheck(health, Options.Create(new CollectorOptions { StaleAfter = TimeSpan.FromMinutes(5) }), clock);

        var fresh = await check.CheckHealthAsync(new HealthCheckContext());
        clock.Now += TimeSpan.FromMinutes(6);
        var stale = await check.CheckHealthAsync(new HealthCheckContext());
        health.Record(new PassReport(clock.Now, TimeSpan.FromSeconds(1), DryRun: false, []), clock.Now);
        var passed = await check.CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Healthy, fresh.Status);
        Assert.Equal(HealthStatus.Unhealthy, stale.Status);
        Assert.Contains("no collection pass has finished for 360 s", stale.Description, StringComparison.Ordinal);
        Assert.Equal(HealthStatus.Healthy, passed.Status);
        Assert.Equal(clock.Now.ToString("O"), passed.Data["lastPassAt"]);
        Assert.Equal(false, passed.Data["paused"]);
    }

    private sealed class WallClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
