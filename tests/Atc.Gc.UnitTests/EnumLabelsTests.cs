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

    [Theory]
    [InlineData(1, "x.state = 'created'")]
    [InlineData(3, "x.state IN ('creating', 'created', 'failed')")]
    public void A_state_set_is_an_equality_or_a_list_in_the_order_given(int count, string expected)
    {
        ContainerState[] states = [ContainerState.Creating, ContainerState.Created, ContainerState.Failed];

        Assert.Equal(expected, ContainerStates.Labels.InSql("x.state", count == 1 ? [ContainerState.Created] : states));
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
        Assert.Equal(Enum.GetValues<WorkerState>().Where(s => s != WorkerState.Gone), WorkerStates.Labels.Values);
        Assert.Equal(Enum.GetValues<BuildStatus>(), BuildStatuses.Labels.Values);
        Assert.Equal(Enum.GetValues<ContainerState>().Where(s => s != ContainerState.Gone), ContainerStates.Labels.Values);
        Assert.Equal(Enum.GetValues<VolumeState>().Where(s => s != VolumeState.Gone), VolumeStates.Labels.Values);
    }
}
