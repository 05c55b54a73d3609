using System.Security.Cryptography;
using Atc.Gc.Database;
using Atc.Gc.Embedded;
using Npgsql;

namespace Atc.Gc.Benchmarks;

/// <summary>
/// The server the benchmarks run on: a throwaway embedded cluster with the settings the reference
/// runs use (1 GiB shared buffers, no fsync), or <c>--database</c>. Each dataset gets its own
/// database, freshly migrated. The embedded cluster also listens on 127.0.0.1 for the reference
/// scripts, which connect over TCP: there the postgres role has a password generated for this run, which
/// they find in <c>PGPASSWORD</c>; the benchmark itself connects through the cluster's private socket.
/// </summary>
public sealed class BenchDatabase : IAsyncDisposable
{
    private readonly EmbeddedPostgres? embedded;
    private readonly string serverConnectionString;

    private BenchDatabase(EmbeddedPostgres? embedded, string serverConnectionString)
    {
        this.embedded = embedded;
        this.serverConnectionString = serverConnectionString;
    }

    /// <summary>The server's port (for tools that take a port, like the reference scripts).</summary>
    public int Port => new NpgsqlConnectionStringBuilder(serverConnectionString).Port;

    public string Describe => embedded is null
        ? new NpgsqlConnectionStringBuilder(serverConnectionString) is var b ? $"{b.Host}:{b.Port}" : string.Empty
        : $"embedded PostgreSQL {embedded.MajorVersion} on 127.0.0.1:{embedded.Port} (shared_buffers 1GB, fsync off)";

    public static async Task<BenchDatabase> StartAsync(string? connectionString, CancellationToken cancellationToken)
    {
        if (connectionString is not null)
        {
            return new BenchDatabase(null, connectionString);
        }

        var options = new EmbeddedPostgresOptions
        {
            Directory = Path.Combine(Path.GetTempPath(), $"atc-gc-bench-{Environment.ProcessId}"),
            Database = "postgres",
            Ephemeral = true,
        };
        options.Settings["shared_buffers"] = "1GB";
        options.Settings["max_wal_size"] = "4GB";
        options.Settings["checkpoint_timeout"] = "30min";
        options.Settings["maintenance_work_mem"] = "256MB";
        options.Settings["work_mem"] = "32MB";
        options.Settings["listen_addresses"] = "127.0.0.1";
        var embedded = await EmbeddedPostgres.StartAsync(options, cancellationToken: cancellationToken);
        try
        {
            var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
            await using (var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(embedded.ConnectionString) { Database = "postgres", Pooling = false }.ConnectionString))
            {
                await connection.OpenAsync(cancellationToken);
                await using var alter = new NpgsqlCommand($"ALTER ROLE postgres PASSWORD '{password}'", connection);
                await alter.ExecuteNonQueryAsync(cancellationToken);
            }

            // Inherited by the reference scripts' psql.
            Environment.SetEnvironmentVariable("PGPASSWORD", password);
        }
        catch
        {
            await embedded.DisposeAsync();
            throw;
        }

        return new BenchDatabase(embedded, embedded.ConnectionString);
    }

    /// <summary>A new, migrated database named <paramref name="name"/> (dropped first if it exists).</summary>
    public async Task<AtcGcDatabase> CreateAsync(string name, CancellationToken cancellationToken)
    {
        await using (var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = "postgres", Pooling = false }.ConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync(cancellationToken);
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        return await AtcGcDatabase.OpenAsync(
            // No command timeout: loading a million rows (foreign keys checked) can outlast the default
            // 30 s on a busy machine; every scenario bounds its own waits.
            new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = name, MaxPoolSize = 50, CommandTimeout = 0 }.ConnectionString,
            cancellationToken: cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (embedded is not null)
        {
            await embedded.DisposeAsync();
        }
    }
}
