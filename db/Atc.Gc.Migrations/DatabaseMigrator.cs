using FluentMigrator.Runner;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Atc.Gc.Migrations;

/// <summary>What a migration run did.</summary>
/// <param name="Applied">The versions applied by this run, oldest first (empty when up to date).</param>
/// <param name="CurrentVersion">The schema version after the run.</param>
public sealed record MigrationReport(IReadOnlyList<long> Applied, long CurrentVersion);

/// <summary>
/// Applies the schema. Every host and the command-line tool call this on start; a session-level
/// advisory lock makes processes that start together apply migrations one after the other, so the
/// second finds the schema current and does nothing.
/// </summary>
public static class DatabaseMigrator
{
    /// <summary>The advisory lock key ("ATCGC-MG" as bytes) held while migrating.</summary>
    public const long AdvisoryLockKey = 0x4154_4347_432D_4D47;

    public static async Task<MigrationReport> MigrateAsync(
        string connectionString, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return await UnderLockAsync(connectionString, () => Migrate(connectionString, loggerFactory), cancellationToken);
    }

    /// <summary>The migrations defined in this assembly by version, oldest first, with their descriptions.</summary>
    public static IReadOnlyDictionary<long, string> KnownMigrations { get; } = typeof(DatabaseMigrator).Assembly.GetTypes()
        .Select(t => t.GetCustomAttributes(typeof(FluentMigrator.MigrationAttribute), false))
        .Where(a => a.Length == 1)
        .Select(a => (FluentMigrator.MigrationAttribute)a[0])
        .OrderBy(a => a.Version)
        .ToDictionary(a => a.Version, a => a.Description ?? string.Empty);

    /// <summary>The versions defined in this assembly, oldest first.</summary>
    public static IReadOnlyList<long> KnownVersions { get; } = [.. KnownMigrations.Keys.Order()];

    /// <summary>Runs <paramref name="work"/> (synchronous, as FluentMigrator's runner is) while holding the migration lock.</summary>
    internal static async Task<T> UnderLockAsync<T>(string connectionString, Func<T> work, CancellationToken cancellationToken)
    {
        await using var lockConnection = new NpgsqlConnection(connectionString);
        await lockConnection.OpenAsync(cancellationToken);
        await using (var take = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", lockConnection))
        {
            take.Parameters.AddWithValue("key", AdvisoryLockKey);
            await take.ExecuteNonQueryAsync(cancellationToken);
        }

        try
        {
            // The runner opens its own connection.
            return await Task.Run(work, cancellationToken);
        }
        finally
        {
            await using var release = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", lockConnection);
            release.Parameters.AddWithValue("key", AdvisoryLockKey);
            await release.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    private static MigrationReport Migrate(string connectionString, ILoggerFactory? loggerFactory) =>
        WithRunner(connectionString, loggerFactory, (runner, versionLoader) =>
        {
            var before = versionLoader.VersionInfo.AppliedMigrations().ToHashSet();
            runner.MigrateUp();
            versionLoader.LoadVersionInfo();
            var after = versionLoader.VersionInfo.AppliedMigrations().ToHashSet();

            var applied = after.Except(before).Order().ToArray();
            return new MigrationReport(applied, after.Count == 0 ? 0 : after.Max());
        });

    /// <summary>FluentMigrator's runner and version loader for this assembly's migrations against <paramref name="connectionString"/>.</summary>
    internal static T WithRunner<T>(string connectionString, ILoggerFactory? loggerFactory, Func<IMigrationRunner, IVersionLoader, T> work)
    {
        var services = new ServiceCollection()
            .AddFluentMigratorCore()
            .ConfigureRunner(runner => runner
                .AddPostgres()
                .WithGlobalConnectionString(connectionString)
                .ScanIn(typeof(DatabaseMigrator).Assembly).For.Migrations());
        if (loggerFactory is not null)
        {
            services.AddSingleton(loggerFactory).AddLogging();
        }
        else
        {
            services.AddLogging();
        }

        using var provider = services.BuildServiceProvider(validateScopes: false);
        using var scope = provider.CreateScope();
        return work(scope.ServiceProvider.GetRequiredService<IMigrationRunner>(), scope.ServiceProvider.GetRequiredService<IVersionLoader>());
    }
}
