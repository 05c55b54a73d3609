using Atc.Gc.Database;
using Stateless;
using Stateless.Graph;

namespace Atc.Gc.Lifecycle;

/// <summary>
/// A lifecycle defined once as a Stateless machine, compiled into one <see cref="RowTransition{TState, TTrigger}"/>
/// per trigger: the statements that move rows take their states from here and write none of their own.
/// </summary>
public sealed class RowLifecycle<TState, TTrigger>
    where TState : struct, Enum
    where TTrigger : struct, Enum
{
    private readonly Action<StateMachine<TState, TTrigger>> configure;
    private readonly IReadOnlyDictionary<TTrigger, RowTransition<TState, TTrigger>> byTrigger;

    /// <param name="initial">The state a new row starts in.</param>
    /// <param name="labels">The database enum's labels of the states that are stored.</param>
    /// <param name="configure">The definition: configures a state machine's states and triggers.</param>
    public RowLifecycle(TState initial, EnumLabels<TState> labels, Action<StateMachine<TState, TTrigger>> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        this.configure = configure;
        Initial = initial;
        Labels = labels;
        var info = Create(initial).GetInfo();
        byTrigger = LifecycleCompiler.Compile<TState, TTrigger>(info).Values
            .ToDictionary(t => t.Trigger, t => new RowTransition<TState, TTrigger>(t, labels));
        Mermaid = MermaidGraph.Format(info);
    }

    /// <summary>The state a new row starts in.</summary>
    public TState Initial { get; }

    public EnumLabels<TState> Labels { get; }

    public IReadOnlyCollection<RowTransition<TState, TTrigger>> All => [.. byTrigger.Values];

    /// <summary>The diagram in Mermaid (stateDiagram-v2).</summary>
    public string Mermaid { get; }

    /// <summary>The initial state's label, quoted as a SQL literal.</summary>
    public string InitialSql => $"'{Labels.ToDb(Initial)}'";

    public RowTransition<TState, TTrigger> For(TTrigger trigger) => byTrigger.TryGetValue(trigger, out var transition)
        ? transition
        : throw new InvalidOperationException($"the lifecycle defines no transition for {trigger}");

    /// <summary>True when the definition lets <paramref name="trigger"/> fire in <paramref name="state"/>.</summary>
    public bool Permits(TState state, TTrigger trigger) => Create(state).CanFire(trigger);

    /// <summary>A state machine of the definition in <paramref name="state"/>.</summary>
    public StateMachine<TState, TTrigger> Create(TState state)
    {
        var machine = new StateMachine<TState, TTrigger>(state);
        configure(machine);
        return machine;
    }
}
