using Atc.Gc.Collection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Atc.Gc.UnitTests;

public sealed class CollectionSignalTests
{
    [Fact]
    public async Task A_pass_that_folds_several_signals_carries_the_latest_ones_time()
    {
        var clock = new ManualClock();
        var signal = new CollectionSignal(NullLogger<CollectionSignal>.Instance, clock);

        clock.Advance(TimeSpan.FromSeconds(1));
        signal.Request("containers");
        clock.Advance(TimeSpan.FromSeconds(4));
        var second = clock.GetTimestamp();
        signal.Request("volumes");

        var cause = await signal.WaitAsync(TimeSpan.FromMinutes(1), TimeSpan.Zero, CancellationToken.None);

        Assert.Equal(PassTrigger.Signal, cause.Trigger);
        Assert.Equal(second, cause.At);
    }

    [Fact]
    public async Task Without_a_signal_the_interval_wakes_the_next_pass()
    {
        var signal = new CollectionSignal(NullLogger<CollectionSignal>.Instance, TimeProvider.System);

        var cause = await signal.WaitAsync(TimeSpan.FromMilliseconds(50), TimeSpan.Zero, CancellationToken.None);

        Assert.Equal(PassTrigger.Interval, cause.Trigger);
    }

}
