using System.Net.Sockets;
using Atc.Gc.Migrations;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Atc.Gc.Database;

/// <summary>
/// The database a process works against: a server by its connection string, or a server this process
/// holds (<see cref="IDatabaseServer"/>, such as a private cluster started for it); migrated on open
/// (<see cref="OpenAsync(string, ILoggerFactory?, CancellationToken)"/>) or only checked (a read-only
/// command), with a data source for the repositories. Disposing it disposes the server it holds.
/// </summary>
public sealed class AtcGcDatabase : IAsyncDisposable
{
    private AtcGcDatabase(string connectionString, NpgsqlDataSource dataSource, IDatabaseServer? server, MigrationReport migration)
    {
        ConnectionString = connectionString;
        DataSource = dataSource;
        Server = server;
        Migration = migration;
    }

    public string ConnectionString { get; }

    public NpgsqlDataSource DataSource { get; }

    /// <summary>The server this database holds and disposes with it, when it was opened on one.</summary>
    public IDatabaseServer? Server { get; }

    public MigrationReport Migration { get; }

    /// <summary>Where this database is, for log lines: host, port and database name (never the password).</summary>
    public string Describe()
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        return Server is null
            ? $"{builder.Host}:{builder.Port}/{builder.Database}"
            : $"{builder.Database} ({Server.Describe()})";
    }

    /// <summary>Opens the database at <paramref name="connectionString"/> and applies migrations. Never starts a cluster.</summary>
    public static Task<AtcGcDatabase> OpenAsync(
        string connectionString, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return OpenCoreAsync(connectionString, null, loggerFactory ?? NullLoggerFactory.Instance, cancellationToken);
    }

    /// <summary>
    /// Opens the database of <paramref name="server"/> and applies migrations. The database takes
    /// <paramref name="server"/> over: it is disposed with the database, or at once when opening fails.
    /// </summary>
    public static Task<AtcGcDatabase> OpenAsync(
        IDatabaseServer server, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        return DisposeOnFailureAsync(
            server, () => OpenCoreAsync(server.ConnectionString, server, loggerFactory ?? NullLoggerFactory.Instance, cancellationToken));
    }

    /// <summary>
    /// Opens the database at <paramref name="connectionString"/> without migrating it (a read-only
    /// command), and refuses a schema older than <see cref="SchemaVersion.Needed"/>, naming the version needed.
    /// </summary>
    public static Task<AtcGcDatabase> OpenExistingAsync(
        string connectionString, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return OpenExistingCoreAsync(connectionString, null, loggerFactory ?? NullLoggerFactory.Instance, cancellationToken);
    }

    /// <summary>
    /// <see cref="OpenExistingAsync(string, ILoggerFactory?, CancellationToken)"/> on the database of
    /// <paramref name="server"/>, which the database takes over as <see cref="OpenAsync(IDatabaseServer, ILoggerFactory?, CancellationToken)"/> does.
    /// </summary>
    public static Task<AtcGcDatabase> OpenExistingAsync(
        IDatabaseServer server, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        return DisposeOnFailureAsync(
            server, () => OpenExistingCoreAsync(server.ConnectionString, server, loggerFactory ?? NullLoggerFactory.Instance, cancellationToken));
    }

    private static async Task<AtcGcDatabase> DisposeOnFailureAsync(IDatabaseServer server, Func<Task<AtcGcDatabase>> open)
    {
        try
        {
            return await open();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private static async Task<AtcGcDatabase> OpenExistingCoreAsync(
        string connectionString, IDatabaseServer? server, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var dataSource = CreateDataSource(connectionString, loggerFactory);
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            var version = await DescribeFailureAsync(
                () => SchemaVersion.RequireAsync(dataSource, $"{builder.Host}:{builder.Port}/{builder.Database}", cancellationToken), builder);
            return new AtcGcDatabase(connectionString, dataSource, server, new MigrationReport([], version));
        }
        catch
        {
            await dataSource.DisposeAsync();
            throw;
        }
    }

    private static async Task<AtcGcDatabase> OpenCoreAsync(
        string connectionString, IDatabaseServer? server, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var report = await MigrateAsync(connectionString, loggerFactory, cancellationToken);
        return new AtcGcDatabase(connectionString, CreateDataSource(connectionString, loggerFactory), server, report);
    }

    private static NpgsqlDataSource CreateDataSource(string connectionString, ILoggerFactory loggerFactory) =>
        new NpgsqlDataSourceBuilder(connectionString) { Name = "atc-gc" }
            .UseLoggerFactory(loggerFactory)
            .Build();

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

        return await DescribeFailureAsync(() => DatabaseMigrator.MigrateAsync(connectionString, loggerFactory, cancellationToken), builder);
    }

    /// <summary>Runs <paramref name="work"/> against the database, turning "cannot connect" into one clear line.</summary>
    private static async Task<T> DescribeFailureAsync<T>(Func<Task<T>> work, NpgsqlConnectionStringBuilder builder)
    {
        try
        {
            return await work();
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
        if (Server is not null)
        {
            await Server.DisposeAsync();
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
