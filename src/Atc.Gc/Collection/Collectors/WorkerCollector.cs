using Atc.Gc.Database;
using Dapper;

namespace Atc.Gc.Collection.Collectors;

/// <summary>
/// Moves workers along their lifecycle: a running worker whose heartbeat is older than
/// <see cref="CollectorOptions.StallAfter"/> is stalled (its volumes wait; it never slows the
/// others); a landing worker with no containers left is landed; a retiring worker with no
/// containers left is deleted, and its volumes with it by cascade.
/// </summary>
public sealed class WorkerCollector : ICollector
{
    public string Name => "workers";

    public async Task CollectAsync(CollectionPass pass, CollectorTally tally, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pass);
        ArgumentNullException.ThrowIfNull(tally);
        await using var db = await pass.ConnectAsync(cancellationToken);
        var examined = await db.Connection.ExecuteScalarAsync<long>(Sql.Command(
            "SELECT count(*) FROM workers WHERE state IN ('running', 'landing', 'retiring')", null, cancellationToken));
        tally.AddExamined(examined);
        foreach (var (detail, sql) in new[] { ("stalled", StallSilentWorkers), ("landed", LandDrainedWorkers), ("retired", DeleteRetiredWorkers) })
        {
            var changed = await db.Connection.ExecuteAsync(Sql.Command(
                sql, new { stallSeconds = pass.Options.StallAfter.TotalSeconds }, cancellationToken));
            tally.AddChanged(changed);
            tally.Add(detail, changed);
        }
    }

    private const string StallSilentWorkers =
        """
        UPDATE workers SET state = 'stalled', state_changed_at = now()
        WHERE state = 'running' AND heartbeat_at < now() - @stallSeconds * interval '1 second'
        """;

    private const string LandDrainedWorkers =
        """
        UPDATE workers w SET state = 'landed', state_changed_at = now()
        WHERE w.state = 'landing' AND NOT EXISTS (SELECT 1 FROM containers c WHERE c.worker_name = w.name)
        """;

    private const string DeleteRetiredWorkers =
        """
        DELETE FROM workers w
        WHERE w.state = 'retiring' AND NOT EXISTS (SELECT 1 FROM containers c WHERE c.worker_name = w.name)
        """;
}
