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

    /// <summary>Nothing needs the volume any more: created | initialized | failed → destroying.</summary>
    Destroy,

    /// <summary>The worker confirmed the volume is gone from its disk: destroying → gone (row deleted).</summary>
    ConfirmDeleted,

    /// <summary>
    /// The worker lost the volume (it stopped reporting it): created | initializing | initialized | failed
    /// → gone, once it has been missing long enough. Its descendants go with it.
    /// </summary>
    Forget,
}
