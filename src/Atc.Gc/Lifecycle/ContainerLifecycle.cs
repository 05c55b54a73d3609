using Atc.Gc.Model;
using Stateless;

namespace Atc.Gc.Lifecycle;

/// <summary>
/// The container lifecycle, defined once; the repository's and the collector's statements take their
/// states from <see cref="Definition"/>.
/// </summary>
public static class ContainerLifecycle
{
    public static RowLifecycle<ContainerState, ContainerTrigger> Definition { get; } = new(Create, ContainerState.Creating, ContainerStates.Labels);

    public static RowTransition<ContainerState, ContainerTrigger> For(ContainerTrigger trigger) => Definition.For(trigger);

    /// <summary>A state machine in <paramref name="state"/>.</summary>
    public static StateMachine<ContainerState, ContainerTrigger> Create(ContainerState state)
    {
        var machine = new StateMachine<ContainerState, ContainerTrigger>(state);

        machine.Configure(ContainerState.Creating)
            .Permit(ContainerTrigger.MarkCreated, ContainerState.Created)
            .Permit(ContainerTrigger.Fail, ContainerState.Failed)
            .Permit(ContainerTrigger.Destroy, ContainerState.Destroying);

        machine.Configure(ContainerState.Created)
            .Permit(ContainerTrigger.Destroy, ContainerState.Destroying);

        machine.Configure(ContainerState.Failed)
            .Permit(ContainerTrigger.Destroy, ContainerState.Destroying);

        machine.Configure(ContainerState.Destroying)
            .Permit(ContainerTrigger.Remove, ContainerState.Gone);

        return machine;
    }
}
