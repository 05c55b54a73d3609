using Atc.Gc.Database;

namespace Atc.Gc.Lifecycle;

/// <summary>The explicit mapping between <see cref="VolumeState"/> and the database's <c>volume_state</c> labels.</summary>
public static class VolumeStates
{
    /// <summary>The labels of <c>volume_state</c>; <see cref="VolumeState.Gone"/> has none (the row is deleted).</summary>
    public static EnumLabels<VolumeState> Labels { get; } = new(
        "volume_state",
        (VolumeState.Creating, "creating"),
        (VolumeState.Created, "created"),
        (VolumeState.Initializing, "initializing"),
        (VolumeState.Initialized, "initialized"),
        (VolumeState.Destroying, "destroying"),
        (VolumeState.Failed, "failed"));

    /// <summary>The states a row can be in, in the order of the database enum.</summary>
    public static IReadOnlyList<VolumeState> Stored => Labels.Values;

    public static string ToDb(this VolumeState state) => Labels.ToDb(state);

    public static VolumeState Parse(string label) => Labels.Parse(label);

    public static bool TryParse(string? label, out VolumeState state) => Labels.TryParse(label, out state);
}
