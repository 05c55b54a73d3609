using Atc.Gc.Database;
using Atc.Gc.Lifecycle;
using Npgsql;

namespace Atc.Gc.Scheduling;

/// <summary>How taking a cache volume for a build ended.</summary>
public enum CacheVolumeUseOutcome
{
    /// <summary>The volume is still the cache's, ready, and its last use is now.</summary>
    Used,

    /// <summary>The volume is not the cache's ready volume any more: evicted under disk pressure, superseded or destroyed meanwhile. Find or make another.</summary>
    Released,
}

/// <summary>
/// Records that a build uses a cache volume (<c>volumes.last_used_at</c>), the order in which disk-pressure
/// eviction takes kept caches (least recently used first). A hand-out is a compare-and-set on the volume
/// row: it locks the row, as the eviction does, so a hand-out and an eviction of the same volume follow
/// each other — the hand-out that comes second finds the volume released and says so.
/// </summary>
public sealed class CacheVolumeUses(NpgsqlDataSource dataSource)
{
    /// <summary>Takes <paramref name="volumeId"/> as the ready volume of the cache(s) in <paramref name="owners"/>.</summary>
    public async Task<CacheVolumeUseOutcome> UseAsync(long volumeId, VolumeOwners owners, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(owners);
        if (owners.ResourceCacheId is null && owners.TaskCacheId is null)
        {
            throw new ArgumentException("a cache volume is used as a resource cache's or a task cache's", nameof(owners));
        }

        return await dataSource.UpdatesOneAsync(
            $"""
            UPDATE volumes SET last_used_at = now()
            WHERE id = @volumeId AND state = '{VolumeLifecycle.CopyOnWriteParentState.ToDb()}' AND missing_since IS NULL
              AND (@ResourceCacheId::bigint IS NULL OR resource_cache_id = @ResourceCacheId)
              AND (@TaskCacheId::bigint IS NULL OR task_cache_id = @TaskCacheId)
            """,
            new { volumeId, owners.ResourceCacheId, owners.TaskCacheId },
            cancellationToken) ? CacheVolumeUseOutcome.Used : CacheVolumeUseOutcome.Released;
    }

    /// <summary>A build used the volume (it mounted it, or made a copy-on-write child of it): its last use is now.</summary>
    public Task<int> TouchAsync(long volumeId, CancellationToken cancellationToken = default) =>
        dataSource.ExecuteAsync("UPDATE volumes SET last_used_at = now() WHERE id = @volumeId", new { volumeId }, cancellationToken);
}
