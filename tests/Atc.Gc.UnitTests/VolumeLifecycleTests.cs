using Atc.Gc.Lifecycle;
using Stateless;

namespace Atc.Gc.UnitTests;

public sealed class VolumeLifecycleTests
{
    [Fact]
    public void Compiled_transitions_have_the_specified_from_states_destinations_and_guards()
    {
        Assert.Equal(
            [
                "MarkCreated: Creating -> Created []",
                "StartInitializing: Created -> Initializing []",
                "MarkInitialized: Initializing -> Initialized []",
                "Fail: Creating,Initializing -> Failed []",
                "Destroy: Created,Initialized -> Destroying [unowned,childless]",
                "Discard: Failed -> Destroying [childless]",
                "ConfirmDeleted: Destroying -> Gone []",
                "Forget: Created,Initializing,Initialized,Failed -> Gone [missing,unowned,childless]",
            ],
            Enum.GetValues<VolumeTrigger>().Select(t => VolumeTransitions.For(t)).Select(t =>
                $"{t.Trigger}: {string.Join(",", t.From)} -> {t.To} [{string.Join(",", t.Guards.Select(g => g.Name))}]"));
    }

    [Fact]
    public void Destroy_predicate_lists_from_states_in_database_enum_order_so_the_partial_index_matches()
    {
        var destroy = VolumeTransitions.For(VolumeTrigger.Destroy);

        Assert.Equal(
            "v.state IN ('created', 'initialized') AND v.container_id IS NULL AND v.resource_cache_id IS NULL " +
            "AND v.worker_base_resource_type_id IS NULL AND v.task_cache_id IS NULL " +
            "AND NOT EXISTS (SELECT 1 FROM volumes child WHERE child.parent_id = v.id OFFSET 0)",
            destroy.PredicateSql("v"));
    }

    [Fact]
    public void A_single_from_state_compiles_to_an_equality()
    {
        Assert.Equal("x.state = 'destroying'", VolumeTransitions.For(VolumeTrigger.ConfirmDeleted).PredicateSql("x"));
        Assert.True(VolumeTransitions.For(VolumeTrigger.ConfirmDeleted).DeletesRow);
    }

    [Theory]
    [InlineData(false, false, true)]
    [InlineData(true, false, false)]
    [InlineData(false, true, false)]
    [InlineData(true, true, false)]
    public void Destroy_is_permitted_only_for_a_volume_with_no_owner_and_no_children(bool hasOwner, bool hasChildren, bool permitted)
    {
        foreach (var state in new[] { VolumeState.Created, VolumeState.Initialized })
        {
            Assert.Equal(permitted, VolumeLifecycle.Permits(state, VolumeTrigger.Destroy, new VolumeFacts(hasOwner, hasChildren)));
        }
    }

    [Theory]
    [InlineData(false, false, true)]
    [InlineData(true, false, true)]
    [InlineData(false, true, false)]
    public void A_failed_volume_is_discarded_whatever_its_owners_but_never_with_a_child(bool hasOwner, bool hasChildren, bool permitted)
    {
        Assert.Equal(permitted, VolumeLifecycle.Permits(VolumeState.Failed, VolumeTrigger.Discard, new VolumeFacts(hasOwner, hasChildren)));
        Assert.False(VolumeLifecycle.Permits(VolumeState.Failed, VolumeTrigger.Destroy, new VolumeFacts(hasOwner, hasChildren)));
    }

    [Fact]
    public void Only_a_missing_volume_with_no_owner_and_no_child_can_be_forgotten()
    {
        Assert.True(VolumeLifecycle.Permits(VolumeState.Initialized, VolumeTrigger.Forget, new VolumeFacts(false, false, IsMissing: true)));
        Assert.False(VolumeLifecycle.Permits(VolumeState.Initialized, VolumeTrigger.Forget, new VolumeFacts(true, false, IsMissing: true)));
        Assert.False(VolumeLifecycle.Permits(VolumeState.Initialized, VolumeTrigger.Forget, new VolumeFacts(false, true, IsMissing: true)));
        Assert.False(VolumeLifecycle.Permits(VolumeState.Initialized, VolumeTrigger.Forget, new VolumeFacts(false, false, IsMissing: false)));
        Assert.False(VolumeLifecycle.Permits(VolumeState.Creating, VolumeTrigger.Forget, new VolumeFacts(false, false, IsMissing: true)));
    }

    [Fact]
    public void Nothing_leaves_gone_and_nothing_but_confirmation_leaves_destroying()
    {
        foreach (var trigger in Enum.GetValues<VolumeTrigger>())
        {
            Assert.False(VolumeLifecycle.Permits(VolumeState.Gone, trigger, VolumeFacts.Orphan));
            Assert.Equal(trigger == VolumeTrigger.ConfirmDeleted, VolumeLifecycle.Permits(VolumeState.Destroying, trigger, VolumeFacts.Orphan));
        }
    }

    [Fact]
    public void Both_diagrams_show_every_edge_of_the_definition()
    {
        var dot = VolumeLifecycle.ToDot();
        var mermaid = VolumeLifecycle.ToMermaid();

        foreach (var transition in VolumeTransitions.All)
        {
            foreach (var from in transition.From)
            {
                Assert.Contains($"\"{from}\" -> \"{transition.To}\"", dot, StringComparison.Ordinal);
                Assert.Contains($"{from} --> {transition.To} : {transition.Trigger}", mermaid, StringComparison.Ordinal);
            }
        }

        Assert.Contains("[unowned] [childless]", mermaid, StringComparison.Ordinal);
    }

    [Fact]
    public void A_definition_where_one_trigger_leads_to_two_states_is_rejected()
    {
        var machine = new StateMachine<VolumeState, VolumeTrigger>(VolumeState.Creating);
        machine.Configure(VolumeState.Creating).Permit(VolumeTrigger.Fail, VolumeState.Failed);
        machine.Configure(VolumeState.Initializing).Permit(VolumeTrigger.Fail, VolumeState.Destroying);

        var ex = Assert.Throws<InvalidOperationException>(() => VolumeTransitions.Compile(machine.GetInfo()));

        Assert.Contains("one destination", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_guard_without_a_sql_form_is_rejected()
    {
        var machine = new StateMachine<VolumeState, VolumeTrigger>(VolumeState.Created);
        machine.Configure(VolumeState.Created).PermitIf(VolumeTrigger.Destroy, VolumeState.Destroying, () => true, "full moon");

        var ex = Assert.Throws<InvalidOperationException>(() => VolumeTransitions.Compile(machine.GetInfo()));

        Assert.Contains("full moon", ex.Message, StringComparison.Ordinal);
    }
}
