using Atc.Gc.Lifecycle;
using Atc.Gc.Model;
using Npgsql;

namespace Atc.Gc.Benchmarks;

/// <summary>
/// The orphans of a dataset, remembered right after loading, so every strategy starts from the same
/// rows: marked orphans are put back in their original states and the table is vacuumed.
/// </summary>
public static class OrphanReset
{
    /// <summary>The orphan predicate every strategy uses: the lifecycle's destroy transition on collectable workers.</summary>
    public static string Predicate { get; } =
        $"{VolumeTransitions.For(VolumeTrigger.Destroy).PredicateSql("v")} " +
        $"AND EXISTS (SELECT 1 FROM workers w WHERE w.name = v.worker_name AND {WorkerStates.CollectableSql("w")})";

    public static async Task RememberAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"CREATE TABLE bench_orphans AS SELECT v.id, v.state FROM volumes v WHERE {Predicate}");
        command.CommandTimeout = 0;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Puts the orphans back, and heartbeats every worker (a dataset loaded minutes ago would otherwise have stalled workers, whose volumes are not collected).</summary>
    public static async Task ResetAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using (var reset = dataSource.CreateCommand(
            """
            UPDATE volumes v SET state = o.state, claimed_by = NULL, claim_expires_at = NULL FROM bench_orphans o WHERE v.id = o.id AND v.state <> o.state;
            UPDATE workers SET state = 'running', heartbeat_at = now() + interval '1 day';
            """))
        {
            reset.CommandTimeout = 0;
            await reset.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var vacuum = dataSource.CreateCommand("VACUUM ANALYZE volumes"))
        {
            vacuum.CommandTimeout = 0;
            await vacuum.ExecuteNonQueryAsync(cancellationToken);
        }

        // Start every measurement without a checkpoint pending (it would land in the middle of one).
        try
        {
            await using var checkpoint = dataSource.CreateCommand("CHECKPOINT");
            checkpoint.CommandTimeout = 0;
            await checkpoint.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            // not a superuser on a given server: measure without it
        }
    }
}
