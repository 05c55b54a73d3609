using Atc.Gc.Collection;

namespace Atc.Gc.UnitTests;

public sealed class PassBudgetTests
{
    [Fact]
    public void A_pass_holds_the_next_one_back_until_the_budget_has_earned_its_time_back()
    {
        var clock = new ManualClock();
        var budget = new PassBudget(share: 0.02, burst: TimeSpan.FromSeconds(1), clock);

        budget.Spent(TimeSpan.FromSeconds(1.1));

        Assert.Equal(TimeSpan.FromSeconds(5), budget.WaitBeforeNextPass()); // 0.1 s of debt at 2 %
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(TimeSpan.Zero, budget.WaitBeforeNextPass());
    }

    [Fact]
    public void Short_passes_after_an_idle_spell_run_back_to_back_up_to_the_burst()
    {
        var clock = new ManualClock();
        var budget = new PassBudget(share: 0.02, burst: TimeSpan.FromSeconds(1), clock);
        clock.Advance(TimeSpan.FromHours(1));

        for (var pass = 0; pass < 40; pass++)
        {
            Assert.Equal(TimeSpan.Zero, budget.WaitBeforeNextPass());
            budget.Spent(TimeSpan.FromMilliseconds(25));
        }

        Assert.Equal(TimeSpan.Zero, budget.Balance);
        budget.Spent(TimeSpan.FromMilliseconds(20));
        Assert.Equal(TimeSpan.FromSeconds(1), budget.WaitBeforeNextPass());
    }

    [Fact]
    public void A_share_outside_zero_to_one_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PassBudget(0, TimeSpan.FromSeconds(1), TimeProvider.System));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PassBudget(1.5, TimeSpan.FromSeconds(1), TimeProvider.System));
    }

}
