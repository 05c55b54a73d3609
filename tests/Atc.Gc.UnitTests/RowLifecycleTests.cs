using System.Text.RegularExpressions;
using Atc.Gc.Lifecycle;
using Atc.Gc.Model;

namespace Atc.Gc.UnitTests;

public sealed partial class RowLifecycleTests
{
    [Fact]
    public void Worker_transitions_have_the_specified_from_states_and_destinations()
    {
        Assert.Equal(
            [
                "Stall: Running -> Stalled",
                "Resume: Stalled -> Running",
                "Register: Stalled,Landed -> Running",
                "Land: Running,Landing -> Landing",
                "FinishLanding: Landing -> Landed",
                "Retire: Running,Stalled,Landing,Retiring -> Retiring",
                "FinishRetiring: Retiring -> Gone",
                "Prune: Stalled,Landed -> Gone",
            ],
            Enum.GetValues<WorkerTrigger>().Select(t => WorkerLifecycle.Definition.For(t).ToString()));
    }

    [Fact]
    public void Container_transitions_have_the_specified_from_states_and_destinations()
    {
        Assert.Equal(
            [
                "MarkCreated: Creating -> Created",
                "Fail: Creating -> Failed",
                "Destroy: Creating,Created,Failed -> Destroying",
                "Remove: Destroying -> Gone",
            ],
            Enum.GetValues<ContainerTrigger>().Select(t => ContainerLifecycle.Definition.For(t).ToString()));
    }

    [Fact]
    public void Every_state_literal_in_the_worker_statements_is_a_worker_state()
    {
        var sql = WorkerLifecycle.Definition.All.Select(Statement).Append(WorkerLifecycle.Definition.InitialSql);

        Assert.All(Literals(sql), label => Assert.True(WorkerStates.Labels.TryParse(label, out _), $"'{label}' is no worker_state"));
    }

    [Fact]
    public void Every_state_literal_in_the_container_statements_is_a_container_state()
    {
        var sql = ContainerLifecycle.Definition.All.Select(Statement).Append(ContainerLifecycle.Definition.InitialSql);

        Assert.All(Literals(sql), label => Assert.True(ContainerStates.Labels.TryParse(label, out _), $"'{label}' is no container_state"));
    }

    [Fact]
    public void A_transition_compiles_to_its_from_states_and_its_destination()
    {
        var land = WorkerLifecycle.Definition.For(WorkerTrigger.Land);

        Assert.Equal("w.state IN ('running', 'landing')", land.FromStatesSql("w"));
        Assert.Equal("state = 'landing', state_changed_at = now()", land.SetStateSql);
        Assert.False(land.DeletesRow);
        Assert.True(WorkerLifecycle.Definition.For(WorkerTrigger.Prune).DeletesRow);
        Assert.Equal("stalled or landed", WorkerLifecycle.Definition.For(WorkerTrigger.Prune).FromLabels);
        Assert.Equal("'running'", WorkerLifecycle.Definition.InitialSql);
        Assert.Equal("'creating'", ContainerLifecycle.Definition.InitialSql);
    }

    [Fact]
    public void Forbidden_transitions_are_refused()
    {
        AssertRefused(
            WorkerLifecycle.Definition,
            (WorkerState.Landed, WorkerTrigger.Land),
            (WorkerState.Landed, WorkerTrigger.Retire),
            (WorkerState.Running, WorkerTrigger.Prune),
            (WorkerState.Retiring, WorkerTrigger.Register),
            (WorkerState.Gone, WorkerTrigger.Register));
        AssertRefused(
            ContainerLifecycle.Definition,
            (ContainerState.Created, ContainerTrigger.Fail),
            (ContainerState.Destroying, ContainerTrigger.Destroy),
            (ContainerState.Failed, ContainerTrigger.MarkCreated));
    }

    [Fact]
    public void The_worker_diagram_shows_every_edge_of_the_definition()
    {
        foreach (var transition in WorkerLifecycle.Definition.All)
        {
            foreach (var from in transition.From)
            {
                Assert.Contains($"{from} --> {transition.To} : {transition.Trigger}", WorkerLifecycle.Definition.Mermaid, StringComparison.Ordinal);
            }
        }
    }

    private static void AssertRefused<TState, TTrigger>(RowLifecycle<TState, TTrigger> lifecycle, params (TState State, TTrigger Trigger)[] forbidden)
        where TState : struct, Enum
        where TTrigger : struct, Enum
    {
        foreach (var (state, trigger) in forbidden)
        {
            Assert.False(lifecycle.Permits(state, trigger), $"{trigger} is permitted in {state}");
            Assert.DoesNotContain(state, lifecycle.For(trigger).From);
        }
    }

    private static string Statement<TState, TTrigger>(RowTransition<TState, TTrigger> transition)
        where TState : struct, Enum =>
        transition.DeletesRow ? transition.FromStatesSql("r") : $"{transition.FromStatesSql("r")} {transition.SetStateSql}";

    private static IEnumerable<string> Literals(IEnumerable<string> sql) =>
        sql.SelectMany(s => QuotedLiteral().Matches(s).Select(m => m.Groups[1].Value)).Distinct();

    [GeneratedRegex("'([a-z_]+)'")]
    private static partial Regex QuotedLiteral();
}
