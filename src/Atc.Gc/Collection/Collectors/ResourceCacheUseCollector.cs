namespace Atc.Gc.Collection.Collectors;

/// <summary>
/// Deletes cache uses whose holder no longer needs them: uses by released builds, and uses on
/// behalf of resources or resource types removed from their pipeline.
/// </summary>
public sealed class ResourceCacheUseCollector : ChunkedCollector
{
    public override string Name => "resource-cache-uses";

    protected override string Statement => DeleteReleasedUses;

    private const string DeleteReleasedUses =
        $"""
        WITH candidate AS (
            SELECT u.id
            FROM resource_cache_uses u
            WHERE u.id > @after
              AND (EXISTS (SELECT 1 FROM builds b WHERE b.id = u.build_id AND b.released_at IS NOT NULL)
                   OR EXISTS (SELECT 1 FROM resources r WHERE r.id = u.resource_id AND NOT r.active)
                   OR EXISTS (SELECT 1 FROM resource_types t WHERE t.id = u.resource_type_id AND NOT t.active))
            ORDER BY u.id
            LIMIT @limit
            FOR UPDATE SKIP LOCKED
        ), changed AS (
            DELETE FROM resource_cache_uses u USING candidate c WHERE u.id = c.id
            RETURNING u.id
        )
        {ChunkedStatement.Tally}
        """;
}
