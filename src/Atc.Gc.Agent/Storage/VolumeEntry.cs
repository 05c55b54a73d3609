namespace Atc.Gc.Agent.Storage;

/// <summary>A volume as the agent keeps it in memory: its metadata, its size as last measured, and what is wrong with it, if anything.</summary>
internal sealed class VolumeEntry(VolumeMetadata metadata)
{
    private readonly Lock sync = new();
    private long sizeBytes;
    private DateTimeOffset? sizedAt;
    private string? problem;

    public VolumeMetadata Metadata { get; } = metadata;

    public string Handle => Metadata.Handle;

    public long SizeBytes
    {
        get
        {
            lock (sync)
            {
                return sizeBytes;
            }
        }
    }

    /// <summary>When the size was last measured; null before the first measurement.</summary>
    public DateTimeOffset? SizedAt
    {
        get
        {
            lock (sync)
            {
                return sizedAt;
            }
        }
    }

    /// <summary>Why the volume's data is not usable (it could not be mounted again after a restart); null when it is.</summary>
    public string? Problem
    {
        get
        {
            lock (sync)
            {
                return problem;
            }
        }

        set
        {
            lock (sync)
            {
                problem = value;
            }
        }
    }

    public void Sized(long bytes, DateTimeOffset at)
    {
        lock (sync)
        {
            sizeBytes = bytes;
            sizedAt = at;
        }
    }

    public VolumeInfo ToInfo() => new(Handle, SizeBytes, Metadata.CreatedAt, Metadata.Parent, Metadata.Properties);
}
