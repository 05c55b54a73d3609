using Atc.Gc.Model;
using Stateless;

namespace Atc.Gc.Lifecycle;

/// <summary>
/// The worker lifecycle, defined once; the repository's and the collector's statements take their
/// states from <see cref="Definition"/>.
/// </summary>
public static class WorkerLifecycle
{
    public static RowLifecycle<WorkerState, WorkerTrigger> Definition { get; } = new(Create, WorkerState.Running, WorkerStates.Labels);

    public static RowTransition<WorkerState, WorkerTrigger> For(WorkerTrigger trigger) => Definition.For(trigger);

    /// <summary>A state machine in <paramref name="state"/>.</summary>
    public static StateMachine<WorkerState, WorkerTrigger> Create(WorkerState state)
    {
        var machine = new StateMachine<WorkerState, WorkerTrigger>(state);

        machine.Configure(WorkerState.Running)
            .Permit(WorkerTrigger.Stall, WorkerState.Stalled)
            .Permit(WorkerTrigger.Land, WorkerState.Landing)
            .Permit(WorkerTrigger.Retire, WorkerState.Retiring);

        machine.Configure(WorkerState.Stalled)
            .Permit(WorkerTrigger.Resume, WorkerState.Running)
            .Permit(WorkerTrigger.Register, WorkerState.Running)
            .Permit(WorkerTrigger.Retire, WorkerState.Retiring)
            .Permit(WorkerTrigger.Prune, WorkerState.Gone);

        machine.Configure(WorkerState.Landing)
            .PermitReentry(WorkerTrigger.Land)
            .Permit(WorkerTrigger.FinishLanding, WorkerState.Landed)
            .Permit(WorkerTrigger.Retire, WorkerState.Retiring);

        machine.Configure(WorkerState.Landed)
            .Permit(WorkerTrigger.Register, WorkerState.Running)
            .Permit(WorkerTrigger.Prune, WorkerState.Gone);

        machine.Configure(WorkerState.Retiring)
            .PermitReentry(WorkerTrigger.Retire)
            .Permit(WorkerTrigger.FinishRetiring, WorkerState.Gone);

        return machine;
    }
}
