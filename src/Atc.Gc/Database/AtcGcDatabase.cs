using System.Net.Sockets;
using Atc.Gc.Embedded;
using Atc.Gc.Migrations;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Atc.Gc.Database;

/// <summary>
/// The database a process works against: a server by its connection string (<see cref="OpenAsync"/>),
/// or the embedded cluster, only when asked for (<see cref="OpenEmbeddedAsync"/>); migrated on open,
/// with a data source for the repositories. Disposing it stops an embedded cluster this process owns.
/// </summary>
public sealed class AtcGcDatabase : IAsyncDisposable
{
    private AtcGcDatabase(string connectionString, NpgsqlDataSource dataSource, EmbeddedPostgres? embedded, MigrationReport migration)
    {
        ConnectionString = connectionString;
        DataSource = dataSource;
        Embedded = embedded;
        Migration = migration;
    }

    public string ConnectionString { get; }

    public NpgsqlDataSource DataSource { get; }

    /// <summary>The embedded cluster, when the database was opened with <see cref="OpenEmbeddedAsync"/>.</summary>
    public EmbeddedPostgres? Embedded { get; }

    public MigrationReport Migration { get; }

    /// <summary>Where this database is, for log lines: host, port and database name (never the password).</summary>
    public string Describe()
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        return Embedded is null
            ? $"{builder.Host}:{builder.Port}/{builder.Database}"
            : $"{builder.Database} (embedded, socket in {Embedded.SocketDirectory}, data in {Embedded.DataDirectory})";
    }

    /// <summary>Opens the database at <paramref name="connectionString"/> and applies migrations. Never starts a cluster.</summary>
    public static Task<AtcGcDatabase> OpenAsync(
        string connectionString, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return OpenCoreAsync(connectionString, null, loggerFactory ?? NullLoggerFactory.Instance, cancellationToken);
    }

    /// <summary>
    /// Starts the embedded cluster described by <paramref name="options"/> (or joins it when it is
    /// already running), opens its database and applies migrations.
    /// </summary>
    public static async Task<AtcGcDatabase> OpenEmbeddedAsync(
        EmbeddedPostgresOptions options, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        loggerFactory ??= NullLoggerFactory.Instance;
        var embedded = await EmbeddedPostgres.StartAsync(options, loggerFactory.CreateLogger<EmbeddedPostgres>(), cancellationToken);
        try
        {
            return await OpenCoreAsync(embedded.ConnectionString, embedded, loggerFactory, cancellationToken);
        }
        catch
        {
            await embedded.DisposeAsync();
            throw;
        }
    }

    private static async Task<AtcGcDatabase> OpenCoreAsync(
        string connectionString, EmbeddedPostgres? embedded, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var report = await MigrateAsync(connectionString, loggerFactory, cancellationToken);
        var dataSource = new NpgsqlDataSourceBuilder(connectionString) { Name = "atc-gc" }
            .UseLoggerFactory(loggerFactory)
            .Build();
        return new AtcGcDatabase(connectionString, dataSource, embedded, report);
    }

    /// <summary>Applies migrations, turning "cannot connect" into one clear line.</summary>
    public static async Task<MigrationReport> MigrateAsync(
        string connectionString, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException ex)
        {
            throw new DatabaseUnavailableException($"the database connection string is malformed: {ex.Message}", ex);
        }

        try
        {
            return await DatabaseMigrator.MigrateAsync(connectionString, loggerFactory, cancellationToken);
        }
        catch (Exception ex) when (IsConnectionProblem(ex))
        {
            throw new DatabaseUnavailableException(
                $"cannot use the database at {builder.Host}:{builder.Port}/{builder.Database}: {FirstLine(ex)}", ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        if (Embedded is not null)
        {
            await Embedded.DisposeAsync();
        }
    }

    /// <summary>
    /// Cannot connect, cannot log in, no such database, server starting or shutting down. Errors
    /// raised by the migrations' own statements are not this and propagate unchanged.
    /// </summary>
    private static bool IsConnectionProblem(Exception ex) => ex switch
    {
        NpgsqlException npgsql => DatabaseErrors.IsUnavailable(npgsql),
        SocketException or TimeoutException => true,
        _ => false,
    };

    private static string FirstLine(Exception ex) => DatabaseErrors.Describe(ex);
}
