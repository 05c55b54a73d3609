using Stateless;
using Stateless.Graph;
using Stateless.Reflection;

namespace Atc.Gc.Lifecycle;

/// <summary>
/// The volume lifecycle, defined once. Everything else is derived from this definition: the
/// compare-and-set statements for single volumes and the set-based statements of the collector
/// (<see cref="VolumeTransitions"/>), in-memory checks, and the diagrams (<c>atc-gc states</c>).
/// </summary>
public static class VolumeLifecycle
{
    /// <summary>
    /// The only state a copy-on-write child can be made from. Children reference their parent's
    /// (id, state) with this state, so the parent cannot leave it while they exist.
    /// </summary>
    public const VolumeState CopyOnWriteParentState = VolumeState.Initialized;

    /// <summary>States in which a volume may be given (more) owners: neither failed nor on its way out.</summary>
    public static IReadOnlyList<VolumeState> Ownable { get; } =
        [VolumeState.Creating, VolumeState.Created, VolumeState.Initializing, VolumeState.Initialized];

    /// <summary>A state machine in <paramref name="state"/> whose guards read <paramref name="facts"/>.</summary>
    public static StateMachine<VolumeState, VolumeTrigger> Create(VolumeState state, VolumeFacts facts = default)
    {
        var machine = new StateMachine<VolumeState, VolumeTrigger>(state);
        var destroyGuards = new[] { Guard(VolumeGuard.Unowned, facts), Guard(VolumeGuard.Childless, facts) };
        var discardGuards = new[] { Guard(VolumeGuard.Childless, facts) };
        var forgetGuards = new[] { Guard(VolumeGuard.Missing, facts), Guard(VolumeGuard.Unowned, facts), Guard(VolumeGuard.Childless, facts) };

        machine.Configure(VolumeState.Creating)
            .Permit(VolumeTrigger.MarkCreated, VolumeState.Created)
            .Permit(VolumeTrigger.Fail, VolumeState.Failed);

        machine.Configure(VolumeState.Created)
            .Permit(VolumeTrigger.StartInitializing, VolumeState.Initializing)
            .PermitIf(VolumeTrigger.Destroy, VolumeState.Destroying, destroyGuards)
            .PermitIf(VolumeTrigger.Forget, VolumeState.Gone, forgetGuards);

        machine.Configure(VolumeState.Initializing)
            .Permit(VolumeTrigger.MarkInitialized, VolumeState.Initialized)
            .Permit(VolumeTrigger.Fail, VolumeState.Failed)
            .PermitIf(VolumeTrigger.Forget, VolumeState.Gone, forgetGuards);

        machine.Configure(VolumeState.Initialized)
            .PermitIf(VolumeTrigger.Destroy, VolumeState.Destroying, destroyGuards)
            .PermitIf(VolumeTrigger.Forget, VolumeState.Gone, forgetGuards);

        machine.Configure(VolumeState.Failed)
            .PermitIf(VolumeTrigger.Discard, VolumeState.Destroying, discardGuards)
            .PermitIf(VolumeTrigger.Forget, VolumeState.Gone, forgetGuards);

        machine.Configure(VolumeState.Destroying)
            .Permit(VolumeTrigger.ConfirmDeleted, VolumeState.Gone);

        return machine;
    }

    /// <summary>The definition as data: states, transitions, guards.</summary>
    public static StateMachineInfo Info { get; } = Create(VolumeState.Creating).GetInfo();

    /// <summary>True when the definition lets <paramref name="trigger"/> fire in <paramref name="state"/> given <paramref name="facts"/>.</summary>
    public static bool Permits(VolumeState state, VolumeTrigger trigger, VolumeFacts facts) =>
        Create(state, facts).CanFire(trigger);

    /// <summary>The diagram in Graphviz DOT.</summary>
    public static string ToDot() => UmlDotGraph.Format(Info);

    /// <summary>The diagram in Mermaid (stateDiagram-v2).</summary>
    public static string ToMermaid() => MermaidGraph.Format(Info);

    private static Tuple<Func<bool>, string> Guard(VolumeGuard guard, VolumeFacts facts) =>
        Tuple.Create<Func<bool>, string>(() => guard.Holds(facts), guard.Name);
}
