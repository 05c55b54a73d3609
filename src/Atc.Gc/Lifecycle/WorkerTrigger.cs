namespace Atc.Gc.Lifecycle;

/// <summary>What moves a worker from one state to the next.</summary>
public enum WorkerTrigger
{
    /// <summary>Its heartbeats stopped for longer than the stall timeout: running → stalled.</summary>
    Stall,

    /// <summary>A stalled worker heartbeats again: stalled → running.</summary>
    Resume,

    /// <summary>A stalled or landed worker registers again: → running.</summary>
    Register,

    /// <summary>An operator lands it (going away for a while); landing again restamps it: running | landing → landing.</summary>
    Land,

    /// <summary>A landing worker has no container of a running build left: landing → landed.</summary>
    FinishLanding,

    /// <summary>An operator retires it (going away for good): running | stalled | landing | retiring → retiring.</summary>
    Retire,

    /// <summary>A retiring worker has no container of a running build left: retiring → gone (row deleted).</summary>
    FinishRetiring,

    /// <summary>An operator removes a worker that is away: stalled | landed → gone (row deleted).</summary>
    Prune,
}
