using Atc.Gc.Database;
using Dapper;
using Npgsql;

namespace Atc.Gc.Collection;

/// <summary>
/// The pass budget held for the cluster (<c>collector_budget</c>): the nodes collecting on one database
/// take turns to pass, and together spend at most <see cref="CollectorOptions.MaxShareOfTime"/> of the
/// wall clock, as one node's <see cref="PassBudget"/> does for itself — so three orchestrators cost the
/// database what one does. A node takes the turn (<see cref="TryStartAsync"/>) only when no other node
/// holds it and the passes so far are paid for; it gives the turn back with what its pass spent
/// (<see cref="FinishAsync"/>). A node that dies in its pass holds the turn until the lease ends.
/// </summary>
public sealed class ClusterPassBudget(NpgsqlDataSource dataSource)
{
    /// <summary>Takes the turn to pass; otherwise says how long until it may be free.</summary>
    public async Task<(bool Started, TimeSpan Wait)> TryStartAsync(string node, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var wait = await connection.QuerySingleAsync<double?>(Sql.Command(
            """
            WITH taken AS (
                INSERT INTO collector_budget (one, busy_until, busy_node, free_at)
                VALUES (true, now() + @leaseSeconds * interval '1 second', @node, '-infinity')
                ON CONFLICT (one) DO UPDATE
                SET busy_until = EXCLUDED.busy_until, busy_node = EXCLUDED.busy_node
                WHERE collector_budget.busy_until <= now() AND collector_budget.free_at <= now()
                RETURNING 1
            )
            SELECT CASE WHEN EXISTS (SELECT 1 FROM taken) THEN NULL
                        ELSE (SELECT extract(epoch FROM greatest(busy_until, free_at) - now())::float8 FROM collector_budget) END
            """, new { node, leaseSeconds = lease.TotalSeconds }, cancellationToken));
        return wait is null ? (true, TimeSpan.Zero) : (false, TimeSpan.FromSeconds(Math.Max(0.01, wait.Value)));
    }

    /// <summary>Gives the turn back, paying for <paramref name="spent"/> at <paramref name="share"/> of the wall clock.</summary>
    public async Task FinishAsync(string node, TimeSpan spent, double share, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(Sql.Command(
            """
            UPDATE collector_budget
            SET busy_until = now(),
                free_at = greatest(free_at, now() - @burstSeconds / @share * interval '1 second') + @spentSeconds / @share * interval '1 second'
            WHERE busy_node = @node
            """, new { node, share, spentSeconds = spent.TotalSeconds, burstSeconds = PassBudget.DefaultBurst.TotalSeconds }, cancellationToken));
    }
}
