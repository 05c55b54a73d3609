using Atc.Gc.Model;

namespace Atc.Gc.Collection.Collectors;

/// <summary>
/// Collects containers on collectable workers: one still creating after <see cref="CollectorOptions.SetupTimeout"/>
/// has failed; a failed one, one whose build was released, one with neither a build nor a resource
/// config left, and a check container (a resource config's, no build) older than
/// <see cref="CollectorOptions.CheckContainerLifetime"/> are marked destroying; destroying rows are then deleted, which releases
/// their volumes (<c>volumes.container_id</c> is SET NULL). Containers are the orchestrator's
/// records: the worker agent holds volumes only, so there is nothing to delete on the worker.
/// </summary>
public sealed class ContainerCollector : ICollector
{
    public string Name => "containers";

    public async Task CollectAsync(CollectionPass pass, CollectorTally tally, CancellationToken cancellationToken)
    {
        await using var db = await pass.ConnectAsync(cancellationToken);
        var batch = pass.Options.BatchSize;
        tally.Add(await ChunkedStatement.RunAsync(
            db, FailStuckContainers, new { timeoutSeconds = pass.Options.SetupTimeout.TotalSeconds }, batch, cancellationToken), "failed");
        tally.Add(await ChunkedStatement.RunAsync(
            db, MarkUnneededContainers, new { checkLifetimeSeconds = pass.Options.CheckContainerLifetime.TotalSeconds }, batch, cancellationToken), "destroying");
        tally.Add(await ChunkedStatement.RunAsync(db, DeleteDestroyingContainers, null, batch, cancellationToken), "deleted");
    }

    private const string FailStuckContainers =
        $"""
        WITH candidate AS (
            SELECT c.id
            FROM containers c
            WHERE c.state = 'creating' AND c.state_changed_at < now() - @timeoutSeconds * interval '1 second' AND c.id > @after
            ORDER BY c.id
            LIMIT @limit
            FOR UPDATE SKIP LOCKED
        ), changed AS (
            UPDATE containers c SET state = 'failed', state_changed_at = now()
            FROM candidate x WHERE c.id = x.id
            RETURNING c.id
        )
        {ChunkedStatement.Tally}
        """;

    private static readonly string MarkUnneededContainers =
        $"""
        WITH candidate AS (
            SELECT c.id
            FROM containers c
            JOIN workers w ON w.name = c.worker_name
            WHERE c.id > @after
              AND {WorkerStates.CollectableSql("w")}
              AND c.state IN ('creating', 'created', 'failed')
              AND (c.state = 'failed'
                   OR (c.build_id IS NULL AND c.resource_config_id IS NULL)
                   OR (c.build_id IS NULL AND c.created_at < now() - @checkLifetimeSeconds * interval '1 second')
                   OR EXISTS (SELECT 1 FROM builds b WHERE b.id = c.build_id AND b.released_at IS NOT NULL))
            ORDER BY c.id
            LIMIT @limit
            FOR UPDATE OF c SKIP LOCKED
        ), changed AS (
            UPDATE containers c SET state = 'destroying', state_changed_at = now()
            FROM candidate x WHERE c.id = x.id
            RETURNING c.id
        )
        {ChunkedStatement.Tally}
        """;

    private const string DeleteDestroyingContainers =
        $"""
        WITH candidate AS (
            SELECT c.id
            FROM containers c
            WHERE c.state = 'destroying' AND c.id > @after
            ORDER BY c.id
            LIMIT @limit
            FOR UPDATE SKIP LOCKED
        ), changed AS (
            DELETE FROM containers c USING candidate x WHERE c.id = x.id
            RETURNING c.id
        )
        {ChunkedStatement.Tally}
        """;
}
