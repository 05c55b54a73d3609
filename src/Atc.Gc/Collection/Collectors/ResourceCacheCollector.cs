namespace Atc.Gc.Collection.Collectors;

/// <summary>
/// Deletes resource caches nothing needs, which orphans their volumes (<c>ON DELETE SET NULL</c>).
/// Kept: a cache with any use; a version the next build of an active job in an unpaused, unarchived
/// pipeline will fetch; the image of a running build; the image behind a custom resource type's config.
/// </summary>
public sealed class ResourceCacheCollector : ChunkedCollector
{
    public override string Name => "resource-caches";

    protected override string Statement => DeleteUnneededCaches;

    private const string DeleteUnneededCaches =
        $"""
        WITH candidate AS (
            SELECT c.id
            FROM resource_caches c
            WHERE c.id > @after
              AND NOT EXISTS (SELECT 1 FROM resource_cache_uses u WHERE u.resource_cache_id = c.id)
              AND NOT EXISTS (SELECT 1 FROM resource_configs rc WHERE rc.resource_cache_id = c.id)
              AND NOT EXISTS (SELECT 1
                              FROM next_build_inputs n
                              JOIN jobs j ON j.id = n.job_id
                              JOIN pipelines p ON p.id = j.pipeline_id
                              WHERE n.resource_cache_id = c.id AND j.active AND NOT p.paused AND NOT p.archived)
              AND NOT EXISTS (SELECT 1
                              FROM image_resource_versions i
                              JOIN builds b ON b.id = i.build_id
                              WHERE i.resource_cache_id = c.id AND NOT b.completed)
            ORDER BY c.id
            LIMIT @limit
            FOR UPDATE SKIP LOCKED
        ), changed AS (
            DELETE FROM resource_caches r USING candidate c WHERE r.id = c.id
            RETURNING r.id
        )
        {ChunkedStatement.Tally}
        """;
}
