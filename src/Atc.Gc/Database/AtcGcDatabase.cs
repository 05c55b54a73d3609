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

    /// <summary>
    /// Opens the database without migrating it (a read-only command): joins the embedded cluster only
    /// when it is running (<paramref name="embedded"/> with <see cref="EmbeddedPostgresOptions.JoinOnly"/>),
    /// and refuses a schema older than <see cref="SchemaVersion.Needed"/>, naming the version needed.
    /// </summary>
    public static async Task<AtcGcDatabase> OpenExistingAsync(
        string? connectionString, EmbeddedPostgresOptions? embedded, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        loggerFactory ??= NullLoggerFactory.Instance;
        var cluster = connectionString is null
            ? await EmbeddedPostgres.StartAsync(
                embedded ?? throw new ArgumentNullException(nameof(embedded)), loggerFactory.CreateLogger<EmbeddedPostgres>(), cancellationToken)
            : null;
        connectionString ??= cluster!.ConnectionString;
        var dataSource = CreateDataSource(connectionString, loggerFactory);
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            var version = await DescribeFailureAsync(
                () => SchemaVersion.RequireAsync(dataSource, $"{builder.Host}:{builder.Port}/{builder.Database}", cancellationToken), builder);
            return new AtcGcDatabase(connectionString, dataSource, cluster, new MigrationReport([], version));
        }
        catch
        {
            await dataSource.DisposeAsync();
            if (cluster is not null)
            {
                await cluster.DisposeAsync();
            }

            throw;
        }
    }

    private static async Task<AtcGcDatabase> OpenCoreAsync(
        string connectionString, EmbeddedPostgres? embedded, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var report = await MigrateAsync(connectionString, loggerFactory, cancellationToken);
        return new AtcGcDatabase(connectionString, CreateDataSource(connectionString, loggerFactory), embedded, report);
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
