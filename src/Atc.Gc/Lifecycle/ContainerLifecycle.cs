using Atc.Gc.Model;
using Stateless;

namespace Atc.Gc.Lifecycle;

/// <summary>The container lifecycle, defined once: a container is made, fails or is no longer needed, and is removed.</summary>
public static class ContainerLifecycle
{
    public static RowLifecycle<ContainerState, ContainerTrigger> Definition { get; } = new(ContainerState.Creating, ContainerStates.Labels, Configure);

    private static void Configure(StateMachine<ContainerState, ContainerTrigger> machine)
    {
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
    }
}
