using Atc.Gc.Lifecycle;
using Atc.Gc.Model;

namespace Atc.Gc.UnitTests;

public sealed class EnumLabelsTests
{
    [Fact]
    public void Every_stored_volume_state_round_trips_through_its_label()
    {
        foreach (var state in VolumeStates.Stored)
        {
            Assert.Equal(state, VolumeStates.Parse(state.ToDb()));
        }
    }

    [Fact]
    public void Gone_has_no_stored_label()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => VolumeState.Gone.ToDb());
        Assert.DoesNotContain(VolumeState.Gone, VolumeStates.Stored);
    }

    [Fact]
    public void An_unknown_label_names_the_accepted_ones()
    {
        var ex = Assert.Throws<FormatException>(() => VolumeStates.Parse("exploding"));

        Assert.Equal(
            "'exploding' is not a volume_state (one of creating, created, initializing, initialized, destroying, failed)",
            ex.Message);
    }

    [Fact]
    public void Labels_are_parsed_case_insensitively()
    {
        Assert.True(WorkerStates.Labels.TryParse("RUNNING", out var state));
        Assert.Equal(WorkerState.Running, state);
        Assert.False(WorkerStates.Labels.TryParse(null, out _));
    }

    [Fact]
    public void Every_enum_value_has_a_label()
    {
        Assert.Equal(Enum.GetValues<WorkerState>(), WorkerStates.Labels.Values);
        Assert.Equal(Enum.GetValues<BuildStatus>(), BuildStatuses.Labels.Values);
        Assert.Equal(Enum.GetValues<ContainerState>(), ContainerStates.Labels.Values);
        Assert.Equal(Enum.GetValues<VolumeState>().Where(s => s != VolumeState.Gone), VolumeStates.Labels.Values);
    }
}
