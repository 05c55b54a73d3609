using Dapper;
using Npgsql;

namespace Atc.Gc.IntegrationTests.Safety;

/// <summary>
/// Makes a race window wide and finds it: fills a table with many rows so that one statement's scan
/// takes a second or more, and waits until another session is inside that statement.
/// </summary>
public static class RaceWindow
{
    /// <summary>Waits until another session runs a statement whose text contains <paramref name="fragment"/>.</summary>
    public static async Task WaitForStatementAsync(NpgsqlDataSource dataSource, string fragment, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        await using var connection = await dataSource.OpenConnectionAsync();
        while (await connection.ExecuteScalarAsync<int>(
                   "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() AND strpos(query, @fragment) > 0",
                   new { fragment }) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"no session ran a statement containing '{fragment}'");
            await Task.Delay(5);
        }
    }
}
