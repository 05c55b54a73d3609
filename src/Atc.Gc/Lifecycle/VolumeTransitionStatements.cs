using System.Collections.Concurrent;
using Atc.Gc.Collection;

namespace Atc.Gc.Lifecycle;

/// <summary>
/// Every statement that moves volumes along one <see cref="VolumeTransition"/>: the compare-and-set
/// of one volume, the statement that says why it changed nothing, and the chunked statement of the
/// collector. All three take their from-states, destination and guards from the same transition.
/// </summary>
internal sealed class VolumeTransitionStatements
{
    private static readonly ConcurrentDictionary<VolumeTrigger, VolumeTransitionStatements> ByTrigger = new();

    private VolumeTransitionStatements(VolumeTransition transition)
    {
        Transition = transition;
        Apply = transition.DeletesRow
            ? $"DELETE FROM volumes v WHERE v.id = @volumeId AND {transition.PredicateSql("v")}"
            : $"""
               UPDATE volumes v SET {SetState}
               WHERE v.id = @volumeId AND {transition.PredicateSql("v")}
               """;
        var guards = transition.Guards.Count == 0
            ? "ARRAY[]::boolean[]"
            : $"ARRAY[{string.Join(", ", transition.Guards.Select(g => $"({g.Sql("v")})"))}]";
        Diagnose = $"SELECT v.state::text AS state, {guards} AS guards FROM volumes v WHERE v.id = @volumeId";
    }

    public VolumeTransition Transition { get; }

    /// <summary>Moves the volume <c>@volumeId</c> when it may take the transition; one row affected when it did.</summary>
    public string Apply { get; }

    /// <summary>The volume <c>@volumeId</c>'s state and, in the transition's order, whether each guard holds.</summary>
    public string Diagnose { get; }

    private string SetState => $"state = '{Transition.To.ToDb()}', state_changed_at = now()";

    public static VolumeTransitionStatements For(VolumeTrigger trigger) =>
        ByTrigger.GetOrAdd(trigger, t => new VolumeTransitionStatements(VolumeTransitions.For(t)));

    /// <summary>
    /// The chunked statement (<see cref="ChunkedStatement"/>) moving every volume that may take the
    /// transition and meets <paramref name="condition"/>, claiming its candidates with <c>FOR UPDATE SKIP LOCKED</c>.
    /// </summary>
    public string Bulk(string condition)
    {
        var change = Transition.DeletesRow
            ? "DELETE FROM volumes v USING candidate c WHERE v.id = c.id RETURNING v.id"
            : $"UPDATE volumes v SET {SetState} FROM candidate c WHERE v.id = c.id RETURNING v.id";
        return $"""
            WITH candidate AS (
                SELECT v.id
                FROM volumes v
                WHERE {Transition.PredicateSql("v")}
                  AND {condition}
                  AND v.id > @after
                ORDER BY v.id
                LIMIT @limit
                FOR UPDATE OF v SKIP LOCKED
            ), changed AS (
                {change}
            )
            {ChunkedStatement.Tally}
            """;
    }

    /// <summary>
    /// Why <see cref="Apply"/> changed nothing, from what <see cref="Diagnose"/> read (<paramref name="state"/>
    /// null when there is no row); null when the row now qualifies (it changed under us: try again).
    /// </summary>
    public TransitionResult? Explain(string? state, IReadOnlyList<bool> guards)
    {
        ArgumentNullException.ThrowIfNull(guards);
        var trigger = Transition.Trigger;
        if (state is null)
        {
            return Transition.DeletesRow
                ? new TransitionResult(trigger, TransitionOutcome.AlreadyInState, VolumeState.Gone)
                : new TransitionResult(trigger, TransitionOutcome.NotFound, null);
        }

        var current = VolumeStates.Parse(state);
        if (current == Transition.To)
        {
            return new TransitionResult(trigger, TransitionOutcome.AlreadyInState, current);
        }

        if (!Transition.From.Contains(current))
        {
            return new TransitionResult(trigger, TransitionOutcome.NotPermitted, current);
        }

        var failed = Transition.Guards.Where((_, i) => !guards[i]).Select(g => g.Name).ToArray();
        return failed.Length > 0
            ? new TransitionResult(trigger, TransitionOutcome.GuardFailed, current, string.Join(", ", failed))
            : null;
    }
}
