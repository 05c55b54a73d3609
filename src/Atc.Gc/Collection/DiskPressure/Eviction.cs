namespace Atc.Gc.Collection.DiskPressure;

/// <summary>A volume whose keep-reason eviction released (or, in a dry run, would release).</summary>
public sealed class Eviction
{
    public long Id { get; init; }

    public string Handle { get; init; } = string.Empty;

    public string WorkerName { get; init; } = string.Empty;

    public long SizeBytes { get; init; }

    public long? ResourceCacheId { get; init; }

    public long? TaskCacheId { get; init; }

    /// <summary>When a build last used it (when it became ready, if never since).</summary>
    public DateTimeOffset LastUsedAt { get; init; }

    /// <summary>Why its worker needed space: <c>high-watermark</c>, <c>reserved-free</c> or <c>kept-cache-limit</c>.</summary>
    public string Reason { get; init; } = string.Empty;

    /// <summary>What kept it: <c>resource-cache</c> or <c>task-cache</c>.</summary>
    public string Kind => ResourceCacheId is not null ? "resource-cache" : "task-cache";

    /// <summary>The cache, as logs name it ("resource cache 12").</summary>
    public string Cache => ResourceCacheId is { } resource ? $"resource cache {resource}" : $"task cache {TaskCacheId}";
}
