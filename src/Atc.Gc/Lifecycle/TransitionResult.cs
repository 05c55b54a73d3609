namespace Atc.Gc.Lifecycle;

/// <summary>How an attempt to move a volume ended.</summary>
public enum TransitionOutcome
{
    /// <summary>This call moved the volume.</summary>
    Applied,

    /// <summary>The volume was already in the target state (or, for deletion, already gone): nothing to do.</summary>
    AlreadyInState,

    /// <summary>The volume is in a state the trigger cannot fire from (another caller moved it first).</summary>
    NotPermitted,

    /// <summary>The volume is in a from-state but a guard does not hold (an owner is set, a child exists).</summary>
    GuardFailed,

    /// <summary>No such volume.</summary>
    NotFound,
}

/// <summary>The result of one compare-and-set transition; a lost race is a result, not an exception.</summary>
/// <param name="State">The volume's state after the attempt, when it still exists.</param>
/// <param name="Detail">For <see cref="TransitionOutcome.GuardFailed"/>, the guards that do not hold.</param>
public sealed record TransitionResult(VolumeTrigger Trigger, TransitionOutcome Outcome, VolumeState? State, string? Detail = null)
{
    /// <summary>The volume is in the trigger's target state now, whoever put it there.</summary>
    public bool Succeeded => Outcome is TransitionOutcome.Applied or TransitionOutcome.AlreadyInState;

    public override string ToString() => Detail is null
        ? $"{Trigger}: {Outcome} ({State?.ToString() ?? "no row"})"
        : $"{Trigger}: {Outcome} ({State?.ToString() ?? "no row"}; {Detail})";
}
