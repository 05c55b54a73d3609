using Stateless.Reflection;

namespace Atc.Gc.Lifecycle;

/// <summary>
/// Reads a Stateless definition into one <see cref="CompiledTransition{TState, TTrigger}"/> per trigger,
/// so that each trigger can be persisted as one statement: a trigger must lead to one state, with the
/// same guards from every state it fires from.
/// </summary>
internal static class LifecycleCompiler
{
    public static IReadOnlyDictionary<TTrigger, CompiledTransition<TState, TTrigger>> Compile<TState, TTrigger>(StateMachineInfo info)
        where TState : struct, Enum
        where TTrigger : struct, Enum
    {
        ArgumentNullException.ThrowIfNull(info);
        var edges = info.States
            .SelectMany(state => state.FixedTransitions.Select(t => (
                From: (TState)state.UnderlyingState,
                Trigger: (TTrigger)t.Trigger.UnderlyingTrigger,
                To: (TState)t.DestinationState.UnderlyingState,
                Guards: t.GuardConditionsMethodDescriptions.Select(g => g.Description).ToArray())))
            .ToList();

        var compiled = new Dictionary<TTrigger, CompiledTransition<TState, TTrigger>>();
        foreach (var group in edges.GroupBy(e => e.Trigger))
        {
            var destinations = group.Select(e => e.To).Distinct().ToList();
            if (destinations.Count != 1)
            {
                throw new InvalidOperationException(
                    $"{group.Key} leads to {string.Join(" and ", destinations)}: a trigger must have one destination to persist as one statement");
            }

            var guardSets = group.Select(e => string.Join(",", e.Guards)).Distinct().ToList();
            if (guardSets.Count != 1)
            {
                throw new InvalidOperationException($"{group.Key} has different guards from different states");
            }

            var from = group.Select(e => e.From).Distinct().Order().ToArray();
            compiled[group.Key] = new CompiledTransition<TState, TTrigger>(group.Key, from, destinations[0], group.First().Guards);
        }

        return compiled;
    }
}
