namespace Atc.Gc.Collection.Collectors;

/// <summary>
/// Deletes resource configs that no active resource or resource type points at, no cache belongs to
/// and no container uses, once <see cref="CollectorOptions.ResourceConfigGrace"/> has passed since they
/// were last referenced. A check container keeps its config until it is recycled
/// (<see cref="CollectorOptions.CheckContainerLifetime"/>).
/// <para>
/// A resource and a container point at their config with <c>ON DELETE SET NULL</c>: a pointer added
/// while a pass decides must not be detached in silence. So each chunk locks its candidates first and
/// decides with a snapshot taken after the locks (<see cref="ChunkedStatement.RunLockedAsync"/>); a
/// pointer's foreign key takes a key-share lock on the config, so it is seen, or it waits and then
/// finds the config gone.
/// </para>
/// </summary>
public sealed class ResourceConfigCollector : ICollector
{
    public string Name => "resource-configs";

    public async Task CollectAsync(CollectionPass pass, CollectorTally tally, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pass);
        ArgumentNullException.ThrowIfNull(tally);
        await using var db = await pass.ConnectAsync(cancellationToken);
        tally.Add(await ChunkedStatement.RunLockedAsync(
            db,
            LockUnreferencedConfigs,
            DeleteUnreferencedConfigs,
            new { graceSeconds = pass.Options.ResourceConfigGrace.TotalSeconds },
            pass.Options.BatchSize,
            cancellationToken));
    }

    /// <summary>True for the config <c>rc</c> when nothing references it and its grace has passed.</summary>
    private const string Unreferenced =
        """
        rc.last_referenced_at < now() - @graceSeconds * interval '1 second'
        AND NOT EXISTS (SELECT 1 FROM resources r WHERE r.resource_config_id = rc.id AND r.active)
        AND NOT EXISTS (SELECT 1 FROM resource_types t WHERE t.resource_config_id = rc.id AND t.active)
        AND NOT EXISTS (SELECT 1 FROM resource_caches c WHERE c.resource_config_id = rc.id)
        AND NOT EXISTS (SELECT 1 FROM containers k WHERE k.resource_config_id = rc.id)
        """;

    private const string LockUnreferencedConfigs =
        $"""
        SELECT rc.id
        FROM resource_configs rc
        WHERE rc.id > @after AND {Unreferenced}
        ORDER BY rc.id
        LIMIT @limit
        FOR UPDATE SKIP LOCKED
        """;

    private const string DeleteUnreferencedConfigs =
        $"""
        WITH doomed AS (
            SELECT rc.id FROM resource_configs rc WHERE rc.id = ANY(@ids) AND {Unreferenced}
        ), changed AS (
            DELETE FROM resource_configs r USING doomed d WHERE r.id = d.id
            RETURNING r.id
        )
        SELECT count(*) FROM changed
        """;
}
