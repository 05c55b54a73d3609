using Atc.Gc.Lifecycle;
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
    private static readonly RowTransition<ContainerState, ContainerTrigger> Fail = ContainerLifecycle.Definition.For(ContainerTrigger.Fail);
    private static readonly RowTransition<ContainerState, ContainerTrigger> Destroy = ContainerLifecycle.Definition.For(ContainerTrigger.Destroy);
    private static readonly RowTransition<ContainerState, ContainerTrigger> Remove = ContainerLifecycle.Definition.For(ContainerTrigger.Remove);

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

    private static readonly string FailStuckContainers =
        $"""
        WITH candidate AS (
            SELECT c.id
            FROM containers c
            WHERE {Fail.FromStatesSql("c")} AND c.state_changed_at < now() - @timeoutSeconds * interval '1 second' AND c.id > @after
            ORDER BY c.id
            LIMIT @limit
            FOR UPDATE SKIP LOCKED
        ), changed AS (
            UPDATE containers c SET {Fail.SetStateSql}
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
              AND {Destroy.FromStatesSql("c")}
              AND (c.state = '{ContainerState.Failed.ToDb()}'
                   OR (c.build_id IS NULL AND c.resource_config_id IS NULL)
                   OR (c.build_id IS NULL AND c.created_at < now() - @checkLifetimeSeconds * interval '1 second')
                   OR EXISTS (SELECT 1 FROM builds b WHERE b.id = c.build_id AND b.released_at IS NOT NULL))
            ORDER BY c.id
            LIMIT @limit
            FOR UPDATE OF c SKIP LOCKED
        ), changed AS (
            UPDATE containers c SET {Destroy.SetStateSql}
            FROM candidate x WHERE c.id = x.id
            RETURNING c.id
        )
        {ChunkedStatement.Tally}
        """;

    private static readonly string DeleteDestroyingContainers =
        $"""
        WITH candidate AS (
            SELECT c.id
            FROM containers c
            WHERE {Remove.FromStatesSql("c")} AND c.id > @after
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
