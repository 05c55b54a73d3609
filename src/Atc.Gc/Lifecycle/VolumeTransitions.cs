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

    internal static IReadOnlyDictionary<VolumeTrigger, VolumeTransition> Compile(StateMachineInfo info) =>
        LifecycleCompiler.Compile<VolumeState, VolumeTrigger>(info).Values.ToDictionary(
            t => t.Trigger,
            t => new VolumeTransition(t.Trigger, t.From, t.To, [.. t.Guards.Select(VolumeGuard.FromName)]));
}
