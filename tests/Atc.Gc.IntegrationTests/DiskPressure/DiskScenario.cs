using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Lifecycle;
using Atc.Gc.Scheduling;

namespace Atc.Gc.IntegrationTests.DiskPressure;

/// <summary>Rows for disk-pressure tests: caches, their measured volumes with a last use, and a worker's reported disk.</summary>
public sealed class DiskScenario(Scenario given, AtcGcStore store)
{
    private int versions;

    public async Task<long> CacheAsync()
    {
        var config = await store.ResourceCaches.FindOrCreateConfigAsync("git", "disk");
        var version = Interlocked.Increment(ref versions);
        return (await store.ResourceCaches.FindOrCreateCacheAsync(config, $$"""{"v":"{{version}}"}""", "p")).Cache!.Id;
    }

    /// <summary>A ready volume kept by a resource cache (a new one unless given), measured, last used <paramref name="usedAgo"/> ago.</summary>
    public async Task<Volume> KeptAsync(string worker, long bytes, TimeSpan usedAgo, long? cache = null, VolumeState state = VolumeState.Initialized)
    {
        var volume = await given.VolumeAsync(state, worker, VolumeOwners.ResourceCache(cache ?? await CacheAsync()));
        await MeasureAsync(volume.Id, bytes, usedAgo);
        return volume;
    }

    /// <summary>Sets a volume's measured size and its last use.</summary>
    public Task MeasureAsync(long volumeId, long bytes, TimeSpan? usedAgo = null) => given.ExecuteAsync(
        "UPDATE volumes SET size_bytes = @bytes, last_used_at = now() - @seconds * interval '1 second' WHERE id = @volumeId",
        new { volumeId, bytes, seconds = (usedAgo ?? TimeSpan.FromDays(30)).TotalSeconds });

    /// <summary>The worker reports <paramref name="capacity"/>, with its volumes taking what their rows say and nothing else on the disk.</summary>
    public Task ReportDiskAsync(string worker, long capacity) => given.ExecuteAsync(
        """
        UPDATE workers w
        SET disk_capacity_bytes = @capacity, disk_volumes_bytes = s.total, disk_free_bytes = greatest(@capacity - s.total, 0), disk_reported_at = now()
        FROM (SELECT coalesce(sum(size_bytes), 0) AS total FROM volumes WHERE worker_name = @worker) s
        WHERE w.name = @worker
        """,
        new { worker, capacity });

    /// <summary>The volumes of the given ids that still have their cache owner.</summary>
    public async Task<IReadOnlyList<long>> StillCachedAsync(IEnumerable<long> ids) =>
        await given.QueryAsync<long>(
            "SELECT id FROM volumes WHERE id = ANY(@ids) AND (resource_cache_id IS NOT NULL OR task_cache_id IS NOT NULL) ORDER BY id",
            new { ids = ids.ToArray() });

    /// <summary>The volumes of the given ids that still have every owner they had: a cache, a container, or (a child) its parent's link.</summary>
    public async Task<IReadOnlyList<long>> StillCachedOrOwnedAsync(IEnumerable<long> ids) =>
        await given.QueryAsync<long>(
            "SELECT id FROM volumes WHERE id = ANY(@ids) AND state IN ('initialized', 'initializing', 'creating') AND (resource_cache_id IS NOT NULL OR task_cache_id IS NOT NULL OR container_id IS NOT NULL) ORDER BY id",
            new { ids = ids.ToArray() });
}
