using System.Text.RegularExpressions;
using Atc.Gc.Lifecycle;

namespace Atc.Gc.UnitTests;

public sealed partial class VolumeTransitionStatementsTests
{
    [Fact]
    public void Every_state_literal_in_the_single_bulk_and_diagnose_statements_is_a_volume_state()
    {
        foreach (var trigger in Enum.GetValues<VolumeTrigger>())
        {
            var statements = VolumeTransitionStatements.For(trigger);
            var literals = new[] { statements.Apply, statements.Diagnose, statements.Bulk("true") }
                .SelectMany(s => QuotedLiteral().Matches(s).Select(m => m.Groups[1].Value));

            Assert.All(literals, label => Assert.True(VolumeStates.TryParse(label, out _), $"{trigger}: '{label}' is no volume_state"));
        }
    }

    [Fact]
    public void Single_and_bulk_statements_share_the_transition_predicate()
    {
        var destroy = VolumeTransitionStatements.For(VolumeTrigger.Destroy);
        var predicate = destroy.Transition.PredicateSql("v");

        Assert.Contains(predicate, destroy.Apply, StringComparison.Ordinal);
        Assert.Contains(predicate, destroy.Bulk("v.id > 0"), StringComparison.Ordinal);
        Assert.StartsWith("DELETE FROM volumes", VolumeTransitionStatements.For(VolumeTrigger.ConfirmDeleted).Apply, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_row_is_gone_for_a_deleting_transition_and_not_found_otherwise()
    {
        Assert.Equal(TransitionOutcome.AlreadyInState, VolumeTransitionStatements.For(VolumeTrigger.ConfirmDeleted).Explain(null, [])!.Outcome);
        Assert.Equal(TransitionOutcome.NotFound, VolumeTransitionStatements.For(VolumeTrigger.Destroy).Explain(null, [])!.Outcome);
    }

    [Fact]
    public void A_state_outside_the_from_states_is_refused()
    {
        var result = VolumeTransitionStatements.For(VolumeTrigger.Destroy).Explain("creating", [true, true]);

        Assert.Equal(TransitionOutcome.NotPermitted, result!.Outcome);
        Assert.Equal(VolumeState.Creating, result.State);
    }

    [Fact]
    public void Failing_guards_are_named_and_a_qualifying_row_asks_for_another_attempt()
    {
        var destroy = VolumeTransitionStatements.For(VolumeTrigger.Destroy);

        var refused = destroy.Explain("initialized", [false, true]);

        Assert.Equal(TransitionOutcome.GuardFailed, refused!.Outcome);
        Assert.Equal("unowned", refused.Detail);
        Assert.Null(destroy.Explain("initialized", [true, true]));
        Assert.Equal(TransitionOutcome.AlreadyInState, destroy.Explain("destroying", [true, true])!.Outcome);
    }

    [GeneratedRegex("'([a-z_]+)'")]
    private static partial Regex QuotedLiteral();
}
