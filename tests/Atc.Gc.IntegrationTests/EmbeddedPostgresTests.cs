using System.Globalization;
using System.Net.Sockets;
using Atc.Gc.Embedded;
using Atc.Gc.IntegrationTests.Infrastructure;
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

    [Fact]
    public async Task The_cluster_listens_on_no_TCP_address_only_on_a_socket_in_a_private_directory()
    {
        var options = new EmbeddedPostgresOptions { Directory = TemporaryDirectory(), Ephemeral = true };
        await using var server = await EmbeddedPostgres.StartAsync(options);

        // postmaster.pid: pid, data directory, start time, port, socket directory, listen addresses, ...
        var recorded = await File.ReadAllLinesAsync(Path.Combine(server.DataDirectory, "postmaster.pid"));
        Assert.Equal(server.Port.ToString(CultureInfo.InvariantCulture), recorded[3]);
        Assert.Equal(server.SocketDirectory, recorded[4]);
        Assert.Equal(string.Empty, recorded[5].Trim());
        using var client = new TcpClient();
        var refused = await Assert.ThrowsAsync<SocketException>(() => client.ConnectAsync("127.0.0.1", server.Port));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        Assert.Equal(server.SocketDirectory, new NpgsqlConnectionStringBuilder(server.ConnectionString).Host);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(server.SocketDirectory));
        Assert.Equal(1, await SelectOneAsync(server.ConnectionString));
    }

    [RootFact]
    public async Task Another_local_user_can_neither_connect_to_the_cluster_nor_read_the_worker_token_secret()
    {
        var directory = TemporaryDirectory();
        var secret = EmbeddedWorkerSecret.ReadOrCreate(directory);
        await using var server = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions { Directory = directory, Ephemeral = true });
        var secretFile = Path.Combine(directory, EmbeddedWorkerSecret.FileName);
        var port = server.Port.ToString(CultureInfo.InvariantCulture);
        string[] query = ["-U", "postgres", "-d", "postgres", "-X", "-A", "-t", "-w", "-c", "SELECT 'connected'"];

        var owner = await Command.RunAsync(Psql, ["-h", server.SocketDirectory, "-p", port, .. query]);
        var overTcp = await OtherUser.RunAsync(Psql, ["-h", "127.0.0.1", "-p", port, .. query]);
        var overSocket = await OtherUser.RunAsync(Psql, ["-h", server.SocketDirectory, "-p", port, .. query]);
        var read = await OtherUser.RunAsync("cat", secretFile);

        Assert.Equal((0, "connected"), owner);
        Assert.NotEqual(0, overTcp.ExitCode);
        Assert.DoesNotContain("connected", overTcp.Output, StringComparison.Ordinal);
        Assert.NotEqual(0, overSocket.ExitCode);
        Assert.DoesNotContain("connected", overSocket.Output, StringComparison.Ordinal);
        Assert.Contains("Permission denied", overSocket.Output, StringComparison.Ordinal);
        Assert.NotEqual(0, read.ExitCode);
        Assert.DoesNotContain(secret, read.Output, StringComparison.Ordinal);
    }

    [RootFact]
    public async Task As_root_the_server_user_is_given_its_data_socket_and_log_but_not_the_directory_holding_the_secret()
    {
        var directory = TemporaryDirectory();
        EmbeddedWorkerSecret.ReadOrCreate(directory);
        await using var server = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions { Directory = directory, Ephemeral = true });
        var postgres = (await Command.RunAsync("id", ["-u", "postgres"])).Output;

        Assert.Equal((0u, "0600"), OwnerAndMode(Path.Combine(directory, EmbeddedWorkerSecret.FileName)));
        Assert.Equal((0u, "0701"), OwnerAndMode(directory));
        foreach (var given in new[] { server.DataDirectory, server.SocketDirectory, Path.Combine(directory, "postgres.log") })
        {
            Assert.Equal(postgres, OwnerAndMode(given).Owner.ToString(CultureInfo.InvariantCulture));
        }

        Assert.NotEqual(0, (await Command.RunAsync("runuser", ["-u", "postgres", "--", "ls", directory])).ExitCode);
        Assert.NotEqual(0, (await Command.RunAsync("runuser", ["-u", "postgres", "--", "cat", Path.Combine(directory, EmbeddedWorkerSecret.FileName)])).ExitCode);
    }

    [RootFact]
    public async Task As_root_a_directory_the_server_user_cannot_reach_is_refused_in_one_line()
    {
        var closed = Directory.CreateTempSubdirectory("atc-gc-closed-").FullName;
        try
        {
            var directory = Path.Combine(closed, "embedded");

            var refused = await Assert.ThrowsAsync<EmbeddedPostgresException>(() => EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions { Directory = directory }));

            Assert.StartsWith($"the embedded directory {directory} is out of reach of the 'postgres' user", refused.Message, StringComparison.Ordinal);
            Assert.Empty(Directory.GetFileSystemEntries(directory));
        }
        finally
        {
            Directory.Delete(closed, recursive: true);
        }
    }

    [Fact]
    public async Task A_cluster_made_by_another_major_version_is_refused_and_left_alone()
    {
        var directory = TemporaryDirectory();
        Directory.CreateDirectory(Path.Combine(directory, "data"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await File.WriteAllTextAsync(Path.Combine(directory, "data", "PG_VERSION"), "9\n");
        try
        {
            var refused = await Assert.ThrowsAsync<EmbeddedPostgresException>(() => EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions { Directory = directory }));

            Assert.Contains("was made by PostgreSQL 9", refused.Message, StringComparison.Ordinal);
            Assert.Equal(["PG_VERSION"], Directory.GetFileSystemEntries(Path.Combine(directory, "data")).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string Psql =>
        File.Exists(Path.Combine(PostgresBinaries.Locate().Directory, "psql")) ? Path.Combine(PostgresBinaries.Locate().Directory, "psql") : "psql";

    private static (uint Owner, string Mode) OwnerAndMode(string path) =>
        UnixFileStatus.Of(path) is { } status ? (status.Owner, status.Octal) : throw new FileNotFoundException(path);

    private static string TemporaryDirectory() => Path.Combine(Path.GetTempPath(), $"atc-gc-embedded-{Guid.NewGuid():N}"[..28]);

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
