using Atc.Gc.Database;

namespace Atc.Gc.Model;

/// <summary>A container's state, as the <c>container_state</c> enum.</summary>
public enum ContainerState
{
    Creating,
    Created,
    Destroying,
    Failed,
}

public static class ContainerStates
{
    public static EnumLabels<ContainerState> Labels { get; } = new(
        "container_state",
        (ContainerState.Creating, "creating"),
        (ContainerState.Created, "created"),
        (ContainerState.Destroying, "destroying"),
        (ContainerState.Failed, "failed"));

    public static string ToDb(this ContainerState state) => Labels.ToDb(state);
}
