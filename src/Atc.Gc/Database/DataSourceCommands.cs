using Dapper;
using Npgsql;

namespace Atc.Gc.Database;

/// <summary>One statement on a pooled connection: the shape of most repository methods.</summary>
internal static class DataSourceCommands
{
    public static async Task<int> ExecuteAsync(this NpgsqlDataSource dataSource, string sql, object? parameters, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(Sql.Command(sql, parameters, cancellationToken));
    }

    /// <summary>True when the statement changed exactly one row.</summary>
    public static async Task<bool> UpdatesOneAsync(this NpgsqlDataSource dataSource, string sql, object? parameters, CancellationToken cancellationToken) =>
        await dataSource.ExecuteAsync(sql, parameters, cancellationToken) == 1;

    public static async Task<T> ScalarAsync<T>(this NpgsqlDataSource dataSource, string sql, object? parameters, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.ExecuteScalarAsync<T>(Sql.Command(sql, parameters, cancellationToken)))!;
    }

    public static async Task<IReadOnlyList<T>> QueryAsync<T>(this NpgsqlDataSource dataSource, string sql, object? parameters, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<T>(Sql.Command(sql, parameters, cancellationToken))).AsList();
    }

    public static async Task<T?> QuerySingleOrDefaultAsync<T>(this NpgsqlDataSource dataSource, string sql, object? parameters, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<T>(Sql.Command(sql, parameters, cancellationToken));
    }
}
