namespace Atc.Gc.Agent.Storage;

/// <summary>
/// The volumes the agent holds, in memory (rebuilt from disk on start), with how many children each
/// has — those that exist and those being made. A volume with children cannot be deleted, and a
/// volume being deleted cannot get a child: both are decided here, under one lock.
/// </summary>
internal sealed class VolumeIndex
{
    private readonly Lock sync = new();
    private readonly Dictionary<string, VolumeEntry> volumes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> children = new(StringComparer.Ordinal);
    private readonly HashSet<string> deleting = new(StringComparer.Ordinal);

    public int Count
    {
        get
        {
            lock (sync)
            {
                return volumes.Count;
            }
        }
    }

    public bool TryGet(string handle, out VolumeEntry entry)
    {
        lock (sync)
        {
            return volumes.TryGetValue(handle, out entry!);
        }
    }

    public IReadOnlyList<VolumeEntry> All()
    {
        lock (sync)
        {
            return [.. volumes.Values];
        }
    }

    /// <summary>Adds a volume (replacing one of the same handle) and counts it as a child of its parent.</summary>
    public void Add(VolumeEntry entry)
    {
        lock (sync)
        {
            if (volumes.Remove(entry.Handle, out var old))
            {
                UncountChild(old.Metadata.Parent);
            }

            volumes[entry.Handle] = entry;
            CountChild(entry.Metadata.Parent);
        }
    }

    /// <summary>Forgets a volume (gone from disk behind the agent's back, or deleted).</summary>
    public void Remove(string handle)
    {
        lock (sync)
        {
            if (volumes.Remove(handle, out var old))
            {
                UncountChild(old.Metadata.Parent);
            }
        }
    }

    /// <summary>
    /// Holds <paramref name="parent"/> for a child being made: from now until <see cref="ReleaseParent"/>
    /// it counts one more child, so it cannot be deleted. False when there is no such volume or it is being deleted.
    /// </summary>
    public bool TryHoldParent(string parent, out VolumeEntry entry)
    {
        lock (sync)
        {
            if (!volumes.TryGetValue(parent, out entry!) || deleting.Contains(parent))
            {
                return false;
            }

            CountChild(parent);
            return true;
        }
    }

    public void ReleaseParent(string parent)
    {
        lock (sync)
        {
            UncountChild(parent);
        }
    }

    /// <summary>
    /// Starts deleting <paramref name="handle"/>: refused (with the children it has) while it has any;
    /// otherwise no child can be made of it until <see cref="EndDelete"/>.
    /// </summary>
    public bool TryBeginDelete(string handle, out IReadOnlyList<string> childrenOf)
    {
        lock (sync)
        {
            if (children.GetValueOrDefault(handle) > 0)
            {
                childrenOf = [.. volumes.Values.Where(v => v.Metadata.Parent == handle).Select(v => v.Handle).Order(StringComparer.Ordinal)];
                if (childrenOf.Count == 0)
                {
                    childrenOf = ["(one being made)"];
                }

                return false;
            }

            deleting.Add(handle);
            childrenOf = [];
            return true;
        }
    }

    /// <summary>Ends a deletion: when <paramref name="removed"/>, the volume is forgotten.</summary>
    public void EndDelete(string handle, bool removed)
    {
        lock (sync)
        {
            deleting.Remove(handle);
            if (removed && volumes.Remove(handle, out var old))
            {
                UncountChild(old.Metadata.Parent);
            }
        }
    }

    private void CountChild(string? parent)
    {
        if (parent is not null)
        {
            children[parent] = children.GetValueOrDefault(parent) + 1;
        }
    }

    private void UncountChild(string? parent)
    {
        if (parent is not null && children.TryGetValue(parent, out var count))
        {
            if (count <= 1)
            {
                children.Remove(parent);
            }
            else
            {
                children[parent] = count - 1;
            }
        }
    }
}
