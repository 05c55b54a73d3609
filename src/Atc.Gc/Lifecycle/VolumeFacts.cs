namespace Atc.Gc.Lifecycle;

/// <summary>What the lifecycle's guards look at, for evaluating a transition in memory.</summary>
/// <param name="HasOwner">Any owner column (container, resource cache, worker base resource type, task cache) is set.</param>
/// <param name="HasChildren">A copy-on-write child references the volume.</param>
/// <param name="IsMissing">Its worker stopped reporting it (<c>missing_since</c> is set).</param>
public readonly record struct VolumeFacts(bool HasOwner, bool HasChildren, bool IsMissing = false)
{
    /// <summary>No owner and no children: what the destroy transition requires.</summary>
    public static VolumeFacts Orphan { get; } = new(HasOwner: false, HasChildren: false);
}
