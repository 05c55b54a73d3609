namespace Atc.Gc.Lifecycle;

/// <summary>
/// Where a volume is in its life. The first six are the values of the <c>volume_state</c> enum in
/// the database, in its declaration order; <see cref="Gone"/> is the end: the row is deleted.
/// </summary>
public enum VolumeState
{
    /// <summary>Exists in the database only; the worker is being asked to make it.</summary>
    Creating,

    /// <summary>Exists in the database and on the worker, empty.</summary>
    Created,

    /// <summary>Being populated (resource fetch, import, copy).</summary>
    Initializing,

    /// <summary>Ready for use; the only state a copy-on-write child can be made from.</summary>
    Initialized,

    /// <summary>Being removed from the worker.</summary>
    Destroying,

    /// <summary>Setting it up failed; it waits to be destroyed.</summary>
    Failed,

    /// <summary>Removed from the worker and from the database.</summary>
    Gone,
}
