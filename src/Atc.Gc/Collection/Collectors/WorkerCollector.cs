using Atc.Gc.Database;
using Atc.Gc.Lifecycle;
using Atc.Gc.Model;
using Dapper;

namespace Atc.Gc.Collection.Collectors;

/// <summary>
/// Moves workers along their lifecycle: a running worker whose heartbeat is older than
/// <see cref="CollectorOptions.StallAfter"/> is stalled (its volumes wait; it never slows the
/// others); a landing worker on which no running build has a container is landed; a retiring worker
/// on which no running build has a container is deleted, and its containers and volumes with it by
/// cascade, and its token revoked (its generation bumped: the agent keeps its token until then, so
/// it can still be called while it drains). Only containers of running builds hold a worker: check containers and containers of
/// finished builds do not.
/// <para>
/// Landing and retiring lock the workers first and decide in a second statement, whose snapshot is
/// taken after the locks: a container a scheduler placed on the worker just before is seen, and one
/// placed after waits for the lock (its foreign key takes a key-share lock on the worker) and then
/// finds the worker landed — or gone, a typed result for the scheduler — instead of vanishing in the cascade.
/// </para>
/// </summary>
public sealed class WorkerCollector : ICollector
{
    private static readonly RowTransition<WorkerState, WorkerTrigger> Stall = WorkerLifecycle.Definition.For(WorkerTrigger.Stall);
    private static readonly RowTransition<WorkerState, WorkerTrigger> FinishLanding = WorkerLifecycle.Definition.For(WorkerTrigger.FinishLanding);
    private static readonly RowTransition<WorkerState, WorkerTrigger> FinishRetiring = WorkerLifecycle.Definition.For(WorkerTrigger.FinishRetiring);

    public string Name => "workers";

    public async Task CollectAsync(CollectionPass pass, CollectorTally tally, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pass);
        ArgumentNullException.ThrowIfNull(tally);
        await using var db = await pass.ConnectAsync(cancellationToken);
        var examined = await db.Connection.ExecuteScalarAsync<long>(Sql.Command(
            $"SELECT count(*) FROM workers w WHERE {WorkerStates.CollectableSql("w")}", null, cancellationToken));
        tally.AddExamined(examined);

        var stalled = await db.Connection.ExecuteAsync(Sql.Command(
            StallSilentWorkers, new { stallSeconds = pass.Options.StallAfter.TotalSeconds }, cancellationToken));
        tally.AddChanged(stalled);
        tally.Add("stalled", stalled);

        foreach (var (detail, transition, decide) in new[] { ("landed", FinishLanding, LandDrainedWorkers), ("retired", FinishRetiring, DeleteRetiredWorkers) })
        {
            var changed = await db.InTransactionAsync(async () =>
            {
                var names = (await db.Connection.QueryAsync<string>(Sql.Command(LockWorkers(transition), null, cancellationToken))).ToArray();
                return names.Length == 0 ? 0 : await db.Connection.ExecuteAsync(Sql.Command(decide, new { names }, cancellationToken));
            }, cancellationToken);
            tally.AddChanged(changed);
            tally.Add(detail, changed);
        }
    }

    private static readonly string StallSilentWorkers =
        $"""
        UPDATE workers w SET {Stall.SetStateSql}
        WHERE {Stall.FromStatesSql("w")} AND w.heartbeat_at < now() - @stallSeconds * interval '1 second'
        """;

    /// <summary>Locks the workers that may take <paramref name="transition"/>, skipping those locked already.</summary>
    private static string LockWorkers(RowTransition<WorkerState, WorkerTrigger> transition) =>
        $"SELECT w.name FROM workers w WHERE {transition.FromStatesSql("w")} ORDER BY w.name FOR UPDATE SKIP LOCKED";

    /// <summary>True for the worker <c>w</c> when no running build has a container on it.</summary>
    private const string Drained =
        """
        NOT EXISTS (SELECT 1 FROM containers c JOIN builds b ON b.id = c.build_id
                    WHERE c.worker_name = w.name AND NOT b.completed)
        """;

    private static readonly string LandDrainedWorkers =
        $"""
        UPDATE workers w SET {FinishLanding.SetStateSql}
        WHERE w.name = ANY(@names) AND {FinishLanding.FromStatesSql("w")} AND {Drained}
        """;

    /// <summary>Deletes the drained retiring workers and, in the same statement, revokes their tokens (bumps their generations).</summary>
    private static readonly string DeleteRetiredWorkers =
        $"""
        WITH retired AS (
            DELETE FROM workers w
            WHERE w.name = ANY(@names) AND {FinishRetiring.FromStatesSql("w")} AND {Drained}
            RETURNING w.name
        )
        INSERT INTO worker_credentials (name, generation, rotated_at)
        SELECT name, 1, now() FROM retired
        ON CONFLICT (name) DO UPDATE SET generation = worker_credentials.generation + 1, rotated_at = now()
        """;
}
