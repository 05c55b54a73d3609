using Atc.Gc.Database;

namespace Atc.Gc.Model;

/// <summary>A container's state, as the <c>container_state</c> enum; <see cref="Gone"/> is the end: the row is deleted.</summary>
public enum ContainerState
{
    Creating,
    Created,
    Destroying,
    Failed,

    /// <summary>The row is deleted, which releases its volumes.</summary>
    Gone,
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
