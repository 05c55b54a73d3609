using Npgsql;

namespace Atc.Gc.Collection;

/// <summary>
/// One pass: the options, and the database the collectors work on. Normally every collector takes
/// its own pooled connection and each statement commits on its own. In a dry run the whole pass
/// runs in one transaction that is rolled back at the end, so it reports exactly what a real pass
/// would change — cascades included — and changes nothing; nothing is sent to workers.
/// </summary>
public sealed class CollectionPass
{
    private readonly NpgsqlDataSource dataSource;
    private readonly NpgsqlConnection? dryRunConnection;

    internal CollectionPass(NpgsqlDataSource dataSource, CollectorOptions options, string collectorId, NpgsqlConnection? dryRunConnection, bool waitForWorkers)
    {
        this.dataSource = dataSource;
        this.dryRunConnection = dryRunConnection;
        Options = options;
        CollectorId = collectorId;
        WaitForWorkers = waitForWorkers;
    }

    public CollectorOptions Options { get; }

    /// <summary>Identifies this process in claims on volumes (<c>volumes.claimed_by</c>).</summary>
    public string CollectorId { get; }

    public bool DryRun => dryRunConnection is not null;

    /// <summary>Wait for every worker deletion to finish (one-off passes) instead of moving on after <see cref="CollectorOptions.WorkerWaitPerPass"/>.</summary>
    public bool WaitForWorkers { get; }

    public NpgsqlDataSource DataSource => dataSource;

    /// <summary>A connection for one collector: its own pooled connection, or the dry run's transaction.</summary>
    public async ValueTask<PassConnection> ConnectAsync(CancellationToken cancellationToken) => dryRunConnection is not null
        ? new PassConnection(dryRunConnection, owned: false)
        : new PassConnection(await dataSource.OpenConnectionAsync(cancellationToken), owned: true);
}

/// <summary>A connection lent to a collector for the pass.</summary>
public sealed class PassConnection(NpgsqlConnection connection, bool owned) : IAsyncDisposable
{
    public NpgsqlConnection Connection { get; } = connection;

    /// <summary>Statements may be retried after a conflict only when each commits on its own (not in a dry run's transaction).</summary>
    public bool CanRetry => owned;

    public ValueTask DisposeAsync() => owned ? Connection.DisposeAsync() : ValueTask.CompletedTask;
}
