namespace Atc.Gc.Lifecycle;

/// <summary>What moves a container from one state to the next.</summary>
public enum ContainerTrigger
{
    /// <summary>The worker made it: creating → created.</summary>
    MarkCreated,

    /// <summary>Making it failed or timed out: creating → failed.</summary>
    Fail,

    /// <summary>Nothing needs it any more (or it failed): creating | created | failed → destroying.</summary>
    Destroy,

    /// <summary>Its row is deleted, which releases its volumes: destroying → gone.</summary>
    Remove,
}
