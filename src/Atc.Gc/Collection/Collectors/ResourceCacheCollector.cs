namespace Atc.Gc.Collection.Collectors;

/// <summary>
/// Deletes resource caches nothing needs, which orphans their volumes (<c>ON DELETE SET NULL</c>).
/// Kept: a cache with any use; the image behind a custom resource type's config; a version the next
/// build of an active job in an unpaused, unarchived pipeline will fetch; the image of a build that is
/// running, of the latest builds of a job until a later build of it succeeds, and of a one-off build
/// for <see cref="CollectorOptions.OneOffImageGrace"/> after it ended.
/// <para>
/// Every keep-reason but the last two lives in another row that a scheduler can add at any moment, so
/// each chunk locks its candidates first and decides after the locks are granted
/// (<see cref="ChunkedStatement.RunLockedAsync"/>): a pin committed before is seen, a pin attempted
/// after waits for the chunk and then finds the cache gone (a typed result, never a lost pin). The
/// next build inputs and images that do not keep a deleted cache are deleted with it, in the same
/// statement; any other pin makes the delete fail (<c>ON DELETE RESTRICT</c>) and the chunk is retried.
/// </para>
/// </summary>
public sealed class ResourceCacheCollector : ICollector
{
    public string Name => "resource-caches";

    public async Task CollectAsync(CollectionPass pass, CollectorTally tally, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pass);
        ArgumentNullException.ThrowIfNull(tally);
        await using var db = await pass.ConnectAsync(cancellationToken);
        tally.Add(await ChunkedStatement.RunLockedAsync(
            db,
            LockUnneededCaches,
            DeleteUnneededCaches,
            new { oneOffImageGraceSeconds = pass.Options.OneOffImageGrace.TotalSeconds },
            pass.Options.BatchSize,
            cancellationToken));
    }

    /// <summary>True for the cache <c>c</c> when nothing keeps it.</summary>
    private const string Unneeded =
        """
        NOT EXISTS (SELECT 1 FROM resource_cache_uses u WHERE u.resource_cache_id = c.id)
        AND NOT EXISTS (SELECT 1 FROM resource_configs rc WHERE rc.resource_cache_id = c.id)
        AND NOT EXISTS (SELECT 1
                        FROM next_build_inputs n
                        JOIN jobs j ON j.id = n.job_id
                        JOIN pipelines p ON p.id = j.pipeline_id
                        WHERE n.resource_cache_id = c.id AND j.active AND NOT p.paused AND NOT p.archived)
        AND NOT EXISTS (SELECT 1
                        FROM image_resource_versions i
                        JOIN builds b ON b.id = i.build_id
                        WHERE i.resource_cache_id = c.id
                          AND (NOT b.completed
                               OR (b.job_id IS NOT NULL
                                   AND NOT EXISTS (SELECT 1 FROM builds later
                                                   WHERE later.job_id = b.job_id AND later.id > b.id
                                                     AND later.status = 'succeeded'))
                               OR (b.job_id IS NULL
                                   AND coalesce(b.ended_at, b.created_at) > now() - @oneOffImageGraceSeconds * interval '1 second')))
        """;

    private const string LockUnneededCaches =
        $"""
        SELECT c.id
        FROM resource_caches c
        WHERE c.id > @after AND {Unneeded}
        ORDER BY c.id
        LIMIT @limit
        FOR UPDATE SKIP LOCKED
        """;

    private const string DeleteUnneededCaches =
        $"""
        WITH doomed AS (
            SELECT c.id FROM resource_caches c WHERE c.id = ANY(@ids) AND {Unneeded}
        ), stale_inputs AS (
            DELETE FROM next_build_inputs n USING doomed d WHERE n.resource_cache_id = d.id
        ), stale_images AS (
            DELETE FROM image_resource_versions i USING doomed d WHERE i.resource_cache_id = d.id
        ), changed AS (
            DELETE FROM resource_caches r USING doomed d WHERE r.id = d.id
            RETURNING r.id
        )
        SELECT count(*) FROM changed
        """;
}
