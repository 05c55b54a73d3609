namespace Atc.Gc.Scheduling;

/// <summary>How recording a keep-reason for a resource cache (a next build input, a build's image) ended.</summary>
public enum PinOutcome
{
    Pinned,

    /// <summary>The cache does not exist (any more): the collector deleted it first. Find or create the cache again.</summary>
    CacheGone,

    /// <summary>The job or build the pin belongs to does not exist (any more).</summary>
    HolderGone,
}

/// <param name="Detail">Why it was not pinned.</param>
public sealed record PinResult(PinOutcome Outcome, string? Detail = null)
{
    public static PinResult Pinned { get; } = new(PinOutcome.Pinned);

    public bool Succeeded => Outcome == PinOutcome.Pinned;
}
