namespace Atc.Gc.Collection.Collectors;

/// <summary>
/// Deletes resource configs that no active resource or resource type points at and no cache belongs
/// to, once <see cref="CollectorOptions.ResourceConfigGrace"/> has passed since they were last referenced.
/// Check containers of a deleted config lose their owner and are collected next.
/// </summary>
public sealed class ResourceConfigCollector : ChunkedCollector
{
    public override string Name => "resource-configs";

    protected override string Statement => DeleteUnreferencedConfigs;

    protected override object? Parameters(CollectorOptions options) => new { graceSeconds = options.ResourceConfigGrace.TotalSeconds };

    private const string DeleteUnreferencedConfigs =
        $"""
        WITH candidate AS (
            SELECT rc.id
            FROM resource_configs rc
            WHERE rc.id > @after
              AND rc.last_referenced_at < now() - @graceSeconds * interval '1 second'
              AND NOT EXISTS (SELECT 1 FROM resources r WHERE r.resource_config_id = rc.id AND r.active)
              AND NOT EXISTS (SELECT 1 FROM resource_types t WHERE t.resource_config_id = rc.id AND t.active)
              AND NOT EXISTS (SELECT 1 FROM resource_caches c WHERE c.resource_config_id = rc.id)
            ORDER BY rc.id
            LIMIT @limit
            FOR UPDATE SKIP LOCKED
        ), changed AS (
            DELETE FROM resource_configs r USING candidate c WHERE r.id = c.id
            RETURNING r.id
        )
        {ChunkedStatement.Tally}
        """;
}
