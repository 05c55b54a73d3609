namespace Atc.Gc.Collection;

/// <summary>
/// How much of the wall clock collection may take (after containerd's GC scheduler and its pause
/// threshold): time accrues at <c>share</c> of the wall clock, up to a burst, and a pass spends its
/// duration. A pass may start while the balance is not negative; otherwise the next one waits until
/// it is. With the default 2 % and passes of tens of milliseconds, a change signal still gets a pass
/// within about a second; a pass that takes a second holds the next one back for about fifty.
/// </summary>
public sealed class PassBudget
{
    private readonly double share;
    private readonly TimeSpan burst;
    private readonly TimeProvider time;
    private TimeSpan balance;
    private long last;

    /// <summary>Up to this much passing may run back to back after an idle spell.</summary>
    public static readonly TimeSpan DefaultBurst = TimeSpan.FromSeconds(1);

    public PassBudget(double share, TimeSpan burst, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(share);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(share, 1);
        ArgumentNullException.ThrowIfNull(time);
        this.share = share;
        this.burst = burst;
        this.time = time;
        balance = burst;
        last = time.GetTimestamp();
    }

    /// <summary>What the budget holds now (negative: in debt).</summary>
    public TimeSpan Balance
    {
        get
        {
            Refill();
            return balance;
        }
    }

    /// <summary>A pass took <paramref name="duration"/>.</summary>
    public void Spent(TimeSpan duration)
    {
        Refill();
        balance -= duration;
    }

    /// <summary>How long to wait before the next pass may start: zero when the balance is not negative.</summary>
    public TimeSpan WaitBeforeNextPass()
    {
        Refill();
        return balance >= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromTicks((long)Math.Ceiling(-balance.Ticks / share));
    }

    private void Refill()
    {
        var now = time.GetTimestamp();
        var earned = TimeSpan.FromTicks((long)(time.GetElapsedTime(last, now).Ticks * share));
        last = now;
        balance = balance + earned > burst ? burst : balance + earned;
    }
}
