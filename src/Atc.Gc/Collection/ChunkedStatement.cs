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
/// </summary>
public static class ChunkedStatement
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
