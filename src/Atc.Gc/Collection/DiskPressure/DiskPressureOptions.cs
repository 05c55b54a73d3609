using System.ComponentModel.DataAnnotations;

namespace Atc.Gc.Collection.DiskPressure;

/// <summary>
/// Limits on a worker's disk, as one worker's override or the defaults. A field left unset in an
/// override takes the default's value.
/// </summary>
public class DiskPressureLimits
{
    /// <summary>Usage (percent of capacity) at or above which kept caches nobody uses are evicted.</summary>
    public int? HighWatermarkPercent { get; set; }

    /// <summary>Usage (percent of capacity) that eviction brings the worker down to.</summary>
    public int? LowWatermarkPercent { get; set; }

    /// <summary>Free space the worker must keep: less triggers eviction, up to the low watermark and at least this much free.</summary>
    public long? ReservedFreeBytes { get; set; }

    /// <summary>The most that kept caches nobody uses may take on the worker; 0 for no limit.</summary>
    public long? MaxKeptCacheBytes { get; set; }
}

/// <summary>
/// Disk-pressure eviction (<c>Collector:DiskPressure</c>): when a worker's disk is above its high
/// watermark, short of its reserved free space, or holds more unused kept caches than allowed, the
/// least recently used of the caches nobody uses lose their keep-reason, and the usual collectors
/// reclaim them. The defaults evict only when a disk is 90 % full, down to 80 %; no reserve, no cap
/// on kept caches.
/// </summary>
public sealed class DiskPressureOptions : DiskPressureLimits
{
    public const string Section = "DiskPressure";

    public const int DefaultHighWatermarkPercent = 90;

    public const int DefaultLowWatermarkPercent = 80;

    public DiskPressureOptions()
    {
        HighWatermarkPercent = DefaultHighWatermarkPercent;
        LowWatermarkPercent = DefaultLowWatermarkPercent;
        ReservedFreeBytes = 0;
        MaxKeptCacheBytes = 0;
    }

    /// <summary>False turns eviction off: caches are then released only when nothing keeps them.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Overrides by worker name; unset fields take the defaults above.</summary>
    public Dictionary<string, DiskPressureLimits> Workers { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The limits that apply to <paramref name="worker"/>.</summary>
    public DiskPressurePolicy For(string worker)
    {
        var own = Workers.GetValueOrDefault(worker);
        return new DiskPressurePolicy(
            own?.HighWatermarkPercent ?? HighWatermarkPercent ?? DefaultHighWatermarkPercent,
            own?.LowWatermarkPercent ?? LowWatermarkPercent ?? DefaultLowWatermarkPercent,
            own?.ReservedFreeBytes ?? ReservedFreeBytes ?? 0,
            own?.MaxKeptCacheBytes ?? MaxKeptCacheBytes ?? 0);
    }

    /// <summary>The defaults' and every override's limits, each named by its configuration key.</summary>
    public IEnumerable<ValidationResult> Validate(string prefix)
    {
        var key = $"{prefix}:{Section}";
        var problems = For(string.Empty).Problems(key);
        foreach (var worker in Workers.Keys)
        {
            problems = problems.Concat(For(worker).Problems($"{key}:Workers:{worker}"));
        }

        return problems.Select(problem => new ValidationResult(problem, [Section]));
    }
}

/// <summary>The resolved limits of one worker.</summary>
public sealed record DiskPressurePolicy(int HighWatermarkPercent, int LowWatermarkPercent, long ReservedFreeBytes, long MaxKeptCacheBytes)
{
    internal IEnumerable<string> Problems(string key)
    {
        if (HighWatermarkPercent is < 1 or > 100)
        {
            yield return $"{key}:HighWatermarkPercent must be between 1 and 100 (it is {HighWatermarkPercent})";
        }

        if (LowWatermarkPercent < 0 || LowWatermarkPercent >= HighWatermarkPercent)
        {
            yield return $"{key}:LowWatermarkPercent must be at least 0 and below HighWatermarkPercent ({HighWatermarkPercent}); it is {LowWatermarkPercent}";
        }

        if (ReservedFreeBytes < 0)
        {
            yield return $"{key}:ReservedFreeBytes must not be negative (it is {ReservedFreeBytes})";
        }

        if (MaxKeptCacheBytes < 0)
        {
            yield return $"{key}:MaxKeptCacheBytes must not be negative, 0 for no limit (it is {MaxKeptCacheBytes})";
        }
    }
}
