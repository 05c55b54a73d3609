namespace Atc.Gc.Lifecycle;

/// <summary>What moves a volume from one state to the next.</summary>
public enum VolumeTrigger
{
    /// <summary>The worker made the volume: creating → created.</summary>
    MarkCreated,

    /// <summary>Population began: created → initializing.</summary>
    StartInitializing,

    /// <summary>Population finished: initializing → initialized.</summary>
    MarkInitialized,

    /// <summary>Setting the volume up failed or timed out: creating | initializing → failed.</summary>
    Fail,

    /// <summary>Nothing needs the volume any more (no owner, no child): created | initialized → destroying.</summary>
    Destroy,

    /// <summary>
    /// Setting the volume up failed: failed → destroying, whatever its owners (a failed volume is never
    /// usable, and an owner that outlives it would keep it forever). A failed volume cannot have children.
    /// </summary>
    Discard,

    /// <summary>The worker confirmed the volume is gone from its disk: destroying → gone (row deleted).</summary>
    ConfirmDeleted,

    /// <summary>
    /// The worker lost the volume (reports taken after it was marked missing keep not listing it):
    /// created | initializing | initialized | failed → gone. Only a volume with no owner and no child
    /// is forgotten: a missing parent waits until nothing below it is left.
    /// </summary>
    Forget,
}
