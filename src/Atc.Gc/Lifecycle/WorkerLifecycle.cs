using Atc.Gc.Model;
using Stateless;

namespace Atc.Gc.Lifecycle;

/// <summary>
/// The worker lifecycle, defined once. A worker runs from its first registration; it stalls when its
/// heartbeats stop and runs again when they resume; an operator lands it (away for a while) or retires
/// it (away for good), and prunes one that is away.
/// </summary>
public static class WorkerLifecycle
{
    public static RowLifecycle<WorkerState, WorkerTrigger> Definition { get; } = new(WorkerState.Running, WorkerStates.Labels, Configure);

    private static void Configure(StateMachine<WorkerState, WorkerTrigger> machine)
    {
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
    }
}
