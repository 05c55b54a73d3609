namespace Atc.Gc.Lifecycle;

/// <summary>One trigger of a lifecycle as its definition states it: the states it fires from, the one it leads to, its guards' names.</summary>
public sealed record CompiledTransition<TState, TTrigger>(
    TTrigger Trigger,
    IReadOnlyList<TState> From,
    TState To,
    IReadOnlyList<string> Guards);
