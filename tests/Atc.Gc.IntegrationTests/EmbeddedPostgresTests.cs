using Atc.Gc.Embedded;
using Npgsql;

namespace Atc.Gc.IntegrationTests;

/// <summary>The embedded default, with its own clusters in temporary directories.</summary>
public sealed class EmbeddedPostgresTests
{
    [Fact]
    public async Task A_second_user_of_a_running_cluster_shares_it_and_only_the_owner_stops_it()
    {
        var options = new EmbeddedPostgresOptions
        {
            Directory = Path.Combine(Path.GetTempPath(), $"atc-gc-embedded-{Guid.NewGuid():N}"[..28]),
            Ephemeral = true,
        };
        var owner = await EmbeddedPostgres.StartAsync(options);
        try
        {
            await using (var guest = await EmbeddedPostgres.StartAsync(options))
            {
                Assert.True(owner.OwnsServer);
                Assert.False(guest.OwnsServer);
                Assert.Equal(owner.Port, guest.Port);
                Assert.Equal(1, await SelectOneAsync(guest.ConnectionString));
            }

            Assert.Equal(1, await SelectOneAsync(owner.ConnectionString));
        }
        finally
        {
            await owner.DisposeAsync();
        }

        await Assert.ThrowsAnyAsync<NpgsqlException>(() => SelectOneAsync(owner.ConnectionString));
        Assert.False(Directory.Exists(options.Directory));
    }

    [Fact]
    public async Task A_persistent_cluster_keeps_its_data_across_restarts()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"atc-gc-embedded-{Guid.NewGuid():N}"[..28]);
        try
        {
            await using (var first = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions { Directory = directory }))
            {
                await ExecuteAsync(first.ConnectionString, "CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)");
            }

            await using var second = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions { Directory = directory });
            Assert.True(second.OwnsServer);
            Assert.Equal(7, await ScalarAsync(second.ConnectionString, "SELECT x FROM kept"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static Task<int> SelectOneAsync(string connectionString) => ScalarAsync(connectionString, "SELECT 1");

    private static async Task<int> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (int)(await command.ExecuteScalarAsync())!;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
