using Atc.Gc.Database;
using Dapper;
using Npgsql;

namespace Atc.Gc.Collection;

/// <summary>Why a pass runs, which decides what "already done by another node" means for each collector.</summary>
public enum PassTrigger
{
    /// <summary>Asked for by hand (<c>collect --once</c>, tests): every collector runs, whatever other nodes did.</summary>
    OneOff,

    /// <summary>The interval passed: a collector another node started within the interval is skipped.</summary>
    Interval,

    /// <summary>A change signal: a collector another node started since the signal arrived is skipped.</summary>
    Signal,
}

/// <summary>
/// Shares the collectors between the processes collecting on one database (as Concourse's component
/// coordinator does): a collector runs on one node at a time (a session advisory lock per collector),
/// and once per interval or per change signal between them (<c>collector_runs</c> records when each
/// last started, and where). Skipping is always safe — every collector is repeatable — it only saves
/// work. Also reads the operator's pause switch (<c>collector_control</c>).
/// </summary>
public sealed class CollectorCoordinator(NpgsqlDataSource dataSource)
{
    /// <summary>Takes <paramref name="collector"/>'s turn, or says why another node has it.</summary>
    /// <param name="since">For a signal: how long ago the signal arrived; a run started after that is enough.</param>
    /// <param name="mustRun">
    /// A collector earlier in this pass changed rows: no earlier run of this one (here or elsewhere) has
    /// seen that work, so it runs whatever the others did — with the lock when it is free.
    /// </param>
    public async Task<CollectorTake> TryTakeAsync(
        string collector, string node, PassTrigger trigger, TimeSpan interval, TimeSpan since, bool mustRun, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var parameters = new { collector, node, intervalSeconds = interval.TotalSeconds * 0.9, sinceSeconds = since.TotalSeconds, signal = trigger == PassTrigger.Signal };
            var locked = await connection.ExecuteScalarAsync<bool>(Sql.Command(TryLock, parameters, cancellationToken));
            if (!locked && !mustRun)
            {
                await connection.DisposeAsync();
                return new CollectorTake(null, "running on another node");
            }

            var earlier = mustRun ? null : await connection.QuerySingleOrDefaultAsync<EarlierRun>(Sql.Command(RecentRun, parameters, cancellationToken));
            if (earlier is not null)
            {
                await new CollectorTurn(connection, collector, locked).DisposeAsync();
                return new CollectorTake(null, $"ran on {earlier.LastNode} at {earlier.LastStartedAt:HH:mm:ss.fff}");
            }

            await connection.ExecuteAsync(Sql.Command(Started, parameters, cancellationToken));
            return new CollectorTake(new CollectorTurn(connection, collector, locked), null);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>The pause switch: who paused collection, when and why; null when it is not paused.</summary>
    public async Task<CollectionPause?> PausedAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<CollectionPause>(Sql.Command(
            "SELECT paused_by, paused_at, reason FROM collector_control WHERE paused", null, cancellationToken));
    }

    /// <summary>Pauses collection on every node (the passes in progress finish).</summary>
    public async Task PauseAsync(string by, string? reason, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(Sql.Command(
            """
            INSERT INTO collector_control (one, paused, paused_by, paused_at, reason) VALUES (true, true, @by, now(), @reason)
            ON CONFLICT (one) DO UPDATE SET paused = true, paused_by = @by, paused_at = now(), reason = @reason
            """, new { by, reason }, cancellationToken));
    }

    /// <summary>Resumes collection. False when it was not paused.</summary>
    public async Task<bool> ResumeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(Sql.Command(
            "UPDATE collector_control SET paused = false, paused_by = NULL, paused_at = NULL, reason = NULL WHERE paused",
            null, cancellationToken)) > 0;
    }

    /// <summary>When each collector last ran, and where.</summary>
    public async Task<IReadOnlyList<CollectorRun>> RunsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<CollectorRun>(Sql.Command(
            "SELECT collector, last_started_at, last_finished_at, last_duration_ms, last_node, last_error FROM collector_runs ORDER BY collector",
            null, cancellationToken))).AsList();
    }

    private const string TryLock = "SELECT pg_try_advisory_lock(hashtextextended('atc-gc collector ' || @collector, 0))";

    private const string RecentRun =
        """
        SELECT last_node, last_started_at FROM collector_runs
        WHERE collector = @collector
          AND last_started_at > now() - (CASE WHEN @signal THEN @sinceSeconds ELSE @intervalSeconds END) * interval '1 second'
        """;

    private const string Started =
        """
        INSERT INTO collector_runs (collector, last_started_at, last_node) VALUES (@collector, now(), @node)
        ON CONFLICT (collector) DO UPDATE SET last_started_at = now(), last_node = @node, runs = collector_runs.runs + 1
        """;

    private sealed class EarlierRun
    {
        public string LastNode { get; init; } = string.Empty;

        public DateTimeOffset LastStartedAt { get; init; }
    }
}

/// <summary>The answer to <see cref="CollectorCoordinator.TryTakeAsync"/>: this node's turn, or why not.</summary>
public sealed record CollectorTake(CollectorTurn? Turn, string? Skipped);

/// <summary>A collector's turn on this node: the advisory lock (when it was free), held until it is disposed; records how the run ended.</summary>
public sealed class CollectorTurn(NpgsqlConnection connection, string collector, bool locked) : IAsyncDisposable
{
    public async Task FinishedAsync(TimeSpan duration, string? error)
    {
        try
        {
            await connection.ExecuteAsync(Sql.Command(
                "UPDATE collector_runs SET last_finished_at = now(), last_duration_ms = @ms, last_error = @error WHERE collector = @collector",
                new { collector, ms = duration.TotalMilliseconds, error }, CancellationToken.None));
        }
        catch (NpgsqlException)
        {
            // the database went away: the lock went with the session
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (locked)
            {
                await connection.ExecuteAsync(Sql.Command(
                    "SELECT pg_advisory_unlock(hashtextextended('atc-gc collector ' || @collector, 0))", new { collector }, CancellationToken.None));
            }
        }
        catch (NpgsqlException)
        {
        }

        await connection.DisposeAsync();
    }
}

/// <summary>Collection paused by an operator.</summary>
public sealed record CollectionPause(string? PausedBy, DateTimeOffset? PausedAt, string? Reason);

/// <summary>A collector's last run, as <c>collector_runs</c> records it.</summary>
public sealed record CollectorRun(string Collector, DateTimeOffset LastStartedAt, DateTimeOffset? LastFinishedAt, double? LastDurationMs, string LastNode, string? LastError);
