using Atc.Gc.Database;

namespace Atc.Gc.Model;

/// <summary>A worker's state, as the <c>worker_state</c> enum; <see cref="Gone"/> is the end: the row is deleted.</summary>
public enum WorkerState
{
    /// <summary>Heartbeating and taking work; its volumes are collected.</summary>
    Running,

    /// <summary>Missed its heartbeats; its volumes are left alone until it comes back or is pruned.</summary>
    Stalled,

    /// <summary>Draining before going away temporarily; its volumes are still collected.</summary>
    Landing,

    /// <summary>Gone temporarily; nothing is sent to it.</summary>
    Landed,

    /// <summary>Draining before going away for good; its volumes are still collected.</summary>
    Retiring,

    /// <summary>Retired or pruned: the row is deleted, with its containers and volumes.</summary>
    Gone,
}

public static class WorkerStates
{
    public static EnumLabels<WorkerState> Labels { get; } = new(
        "worker_state",
        (WorkerState.Running, "running"),
        (WorkerState.Stalled, "stalled"),
        (WorkerState.Landing, "landing"),
        (WorkerState.Landed, "landed"),
        (WorkerState.Retiring, "retiring"));

    /// <summary>
    /// Workers the collector works on: their orphans are marked and their volumes deleted. A stalled
    /// worker cannot answer and a landed one is away; their volumes wait.
    /// </summary>
    public static IReadOnlyList<WorkerState> Collectable { get; } = [WorkerState.Running, WorkerState.Landing, WorkerState.Retiring];

    /// <summary><c>w.state IN ('running', 'landing', 'retiring')</c> for the <c>workers</c> row aliased <paramref name="alias"/>.</summary>
    public static string CollectableSql(string alias) => Labels.InSql($"{alias}.state", Collectable);

    public static string ToDb(this WorkerState state) => Labels.ToDb(state);
}
