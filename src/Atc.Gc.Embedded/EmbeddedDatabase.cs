using Atc.Gc.Database;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Atc.Gc.Embedded;

/// <summary>
/// The Atc.Gc database in the embedded cluster: starts (or joins) the cluster described by the options
/// and opens its database through <see cref="AtcGcDatabase"/>, which holds the cluster
/// (<see cref="AtcGcDatabase.Server"/>, an <see cref="EmbeddedPostgres"/>) and stops it, when this
/// process owns it, on dispose.
/// </summary>
public static class EmbeddedDatabase
{
    /// <summary>
    /// Starts the embedded cluster described by <paramref name="options"/> (or joins it when it is
    /// already running), opens its database and applies migrations.
    /// </summary>
    public static async Task<AtcGcDatabase> OpenAsync(
        EmbeddedPostgresOptions options, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        loggerFactory ??= NullLoggerFactory.Instance;
        var cluster = await StartAsync(options, loggerFactory, cancellationToken);
        return await AtcGcDatabase.OpenAsync(cluster, loggerFactory, cancellationToken);
    }

    /// <summary>
    /// Opens the database without migrating it (a read-only command): joins the embedded cluster only
    /// when it is running if <paramref name="options"/> say <see cref="EmbeddedPostgresOptions.JoinOnly"/>,
    /// and refuses a schema older than <see cref="SchemaVersion.Needed"/>, naming the version needed.
    /// </summary>
    public static async Task<AtcGcDatabase> OpenExistingAsync(
        EmbeddedPostgresOptions options, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        loggerFactory ??= NullLoggerFactory.Instance;
        var cluster = await StartAsync(options, loggerFactory, cancellationToken);
        return await AtcGcDatabase.OpenExistingAsync(cluster, loggerFactory, cancellationToken);
    }

    /// <summary>The embedded cluster <paramref name="database"/> holds; <see cref="InvalidOperationException"/> when it holds none.</summary>
    public static EmbeddedPostgres Cluster(this AtcGcDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        return database.Server as EmbeddedPostgres
            ?? throw new InvalidOperationException($"the database {database.Describe()} is not in the embedded cluster");
    }

    private static Task<EmbeddedPostgres> StartAsync(
        EmbeddedPostgresOptions options, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        return EmbeddedPostgres.StartAsync(options, loggerFactory.CreateLogger<EmbeddedPostgres>(), cancellationToken);
    }
}
