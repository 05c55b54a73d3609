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

    /// <summary>Wait for the workers' deletions this pass asked for (one-off passes) instead of leaving them to the per-worker loops.</summary>
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

    /// <summary>
    /// Runs <paramref name="work"/> in a transaction of its own, committed when it returns; in a dry
    /// run, inside the pass's transaction (which is rolled back at the end).
    /// </summary>
    public async Task<T> InTransactionAsync<T>(Func<Task<T>> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (!owned)
        {
            return await work();
        }

        await using var transaction = await Connection.BeginTransactionAsync(cancellationToken);
        var result = await work();
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    public ValueTask DisposeAsync() => owned ? Connection.DisposeAsync() : ValueTask.CompletedTask;
}
