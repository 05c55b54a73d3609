namespace Atc.Gc.Collection.Collectors;

/// <summary>
/// Deletes task caches past their time to live (a time to live of zero never expires), of archived
/// pipelines, and of jobs removed from their pipeline; their volumes lose <c>task_cache_id</c>. A
/// volume a running build has mounted is also owned by the build's container, so it stays until the
/// build is done. (Deleting a job deletes its task caches by cascade.)
/// </summary>
public sealed class TaskCacheCollector : ChunkedCollector
{
    public override string Name => "task-caches";

    protected override string Statement => DeleteExpiredTaskCaches;

    private const string DeleteExpiredTaskCaches =
        $"""
        WITH candidate AS (
            SELECT tc.id
            FROM task_caches tc
            JOIN jobs j ON j.id = tc.job_id
            JOIN pipelines p ON p.id = j.pipeline_id
            WHERE tc.id > @after
              AND ((tc.ttl > interval '0' AND tc.last_used + tc.ttl < now()) OR p.archived OR NOT j.active)
            ORDER BY tc.id
            LIMIT @limit
            FOR UPDATE OF tc SKIP LOCKED
        ), changed AS (
            DELETE FROM task_caches t USING candidate c WHERE t.id = c.id
            RETURNING t.id
        )
        {ChunkedStatement.Tally}
        """;
}
