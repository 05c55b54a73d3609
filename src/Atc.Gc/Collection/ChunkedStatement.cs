using Atc.Gc.Database;
using Dapper;
using Npgsql;

namespace Atc.Gc.Collection;

/// <summary>Rows a chunked statement examined and changed.</summary>
public readonly record struct ChunkTotals(long Examined, long Changed)
{
    public static ChunkTotals operator +(ChunkTotals a, ChunkTotals b) => new(a.Examined + b.Examined, a.Changed + b.Changed);
}

/// <summary>
/// Runs a statement in bounded chunks, walking the candidates by id (keyset) so rows that are kept
/// are not examined again and every chunk is an index range. The statement takes <c>@after</c> and
/// <c>@limit</c>, claims its candidates with <c>FOR UPDATE SKIP LOCKED</c> (rows another collector or
/// a scheduler holds are left for later), and ends with <see cref="Tally"/>.
/// <para>
/// One statement decides from its own snapshot. That is enough when every keep-reason lives in the
/// candidate row itself (a concurrent change to the row makes the lock re-check it) or is guarded by
/// a foreign key that refuses the change. When a keep-reason is another row that a writer can add
/// without touching the candidate — a next build input, a build's image, a container on a worker —
/// use <see cref="RunLockedAsync"/>: lock first, then decide with a snapshot taken after the lock.
/// </para>
/// </summary>
internal static class ChunkedStatement
{
    /// <summary>The closing SELECT of a chunked statement over CTEs <c>candidate</c> (with an <c>id</c>) and <c>changed</c>.</summary>
    public const string Tally =
        "SELECT count(*) AS examined, (SELECT count(*) FROM changed) AS changed, max(id) AS last_id FROM candidate";

    private const int AttemptsPerChunk = 3;

    public static async Task<ChunkTotals> RunAsync(
        PassConnection db, string sql, object? parameters, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var totals = new ChunkTotals(0, 0);
        long after = 0;
        while (true)
        {
            var chunk = await RunChunkAsync(db, sql, parameters, after, limit, cancellationToken);
            totals += new ChunkTotals(chunk.Examined, chunk.Changed);
            if (chunk.Examined < limit || chunk.LastId is null)
            {
                return totals;
            }

            after = chunk.LastId.Value;
        }
    }

    /// <summary>
    /// Lock, then decide. Each chunk is one transaction of two statements: <paramref name="lockSql"/>
    /// selects candidates (<c>@after</c>, <c>@limit</c>; returns their ids, in order) with
    /// <c>FOR UPDATE SKIP LOCKED</c>; <paramref name="decideSql"/> gets them as <c>@ids</c> and returns how
    /// many it changed. The second statement's snapshot is taken after the locks were granted, so it
    /// sees every keep-reason committed before; a writer adding one afterwards must lock the candidate
    /// row (a foreign key's key-share lock does) and waits until the chunk commits.
    /// </summary>
    public static async Task<ChunkTotals> RunLockedAsync(
        PassConnection db, string lockSql, string decideSql, object? parameters, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var totals = new ChunkTotals(0, 0);
        long after = 0;
        while (true)
        {
            var (ids, changed) = await RunLockedChunkAsync(db, lockSql, decideSql, parameters, after, limit, cancellationToken);
            totals += new ChunkTotals(ids.Length, changed);
            if (ids.Length < limit)
            {
                return totals;
            }

            after = ids[^1];
        }
    }

    private static async Task<(long[] Ids, long Changed)> RunLockedChunkAsync(
        PassConnection db, string lockSql, string decideSql, object? parameters, long after, int limit, CancellationToken cancellationToken)
    {
        var locking = new DynamicParameters(parameters);
        locking.Add("after", after);
        locking.Add("limit", limit);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await db.InTransactionAsync(async () =>
                {
                    var ids = (await db.Connection.QueryAsync<long>(Sql.Command(lockSql, locking, cancellationToken))).ToArray();
                    if (ids.Length == 0)
                    {
                        return (ids, 0L);
                    }

                    var deciding = new DynamicParameters(parameters);
                    deciding.Add("ids", ids);
                    return (ids, await db.Connection.ExecuteScalarAsync<long>(Sql.Command(decideSql, deciding, cancellationToken)));
                }, cancellationToken);
            }
            catch (PostgresException ex) when (db.CanRetry && attempt < AttemptsPerChunk && (ex.IsForeignKeyViolation() || ex.IsTransient()))
            {
                // A writer that did not take the lock protocol (or a deadlock): the chunk rolled back; run it again.
            }
        }
    }

    private static async Task<ChunkRow> RunChunkAsync(
        PassConnection db, string sql, object? parameters, long after, int limit, CancellationToken cancellationToken)
    {
        var arguments = new DynamicParameters(parameters);
        arguments.Add("after", after);
        arguments.Add("limit", limit);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await db.Connection.QuerySingleAsync<ChunkRow>(Sql.Command(sql, arguments, cancellationToken));
            }
            catch (PostgresException ex) when (db.CanRetry && attempt < AttemptsPerChunk && (ex.IsForeignKeyViolation() || ex.IsTransient()))
            {
                // A row gained a reference (a use, a child) between this statement's snapshot and its
                // write, or two writers deadlocked: the whole statement rolled back. Run it again;
                // its new snapshot sees the reference and leaves the row alone.
            }
        }
    }

    private sealed class ChunkRow
    {
        public long Examined { get; init; }

        public long Changed { get; init; }

        public long? LastId { get; init; }
    }
}
