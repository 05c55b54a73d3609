using Stateless.Reflection;

namespace Atc.Gc.Lifecycle;

/// <summary>
/// The lifecycle compiled into one <see cref="VolumeTransition"/> per trigger, read from
/// <see cref="VolumeLifecycle.Info"/>: nothing about states or guards is written here a second time.
/// </summary>
public static class VolumeTransitions
{
    private static readonly IReadOnlyDictionary<VolumeTrigger, VolumeTransition> ByTrigger = Compile(VolumeLifecycle.Info);

    public static IReadOnlyCollection<VolumeTransition> All => [.. ByTrigger.Values];

    public static VolumeTransition For(VolumeTrigger trigger) => ByTrigger.TryGetValue(trigger, out var transition)
        ? transition
        : throw new InvalidOperationException($"the lifecycle defines no transition for {trigger}");

    internal static IReadOnlyDictionary<VolumeTrigger, VolumeTransition> Compile(StateMachineInfo info)
    {
        var edges = info.States
            .SelectMany(state => state.FixedTransitions.Select(t => (
                From: (VolumeState)state.UnderlyingState,
                Trigger: (VolumeTrigger)t.Trigger.UnderlyingTrigger,
                To: (VolumeState)t.DestinationState.UnderlyingState,
                Guards: t.GuardConditionsMethodDescriptions.Select(g => g.Description).ToArray())))
            .ToList();

        var compiled = new Dictionary<VolumeTrigger, VolumeTransition>();
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

            var from = group.Select(e => e.From).Distinct().OrderBy(s => s).ToArray();
            var guards = group.First().Guards.Select(VolumeGuard.FromName).ToArray();
            compiled[group.Key] = new VolumeTransition(group.Key, from, destinations[0], guards);
        }

        return compiled;
    }
}
