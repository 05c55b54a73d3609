using Npgsql;

namespace Atc.Gc.Migrations;

/// <summary>One migration that moving the schema applies (up) or reverts (its Down step).</summary>
public sealed record MigrationStep(long Version, string Description, bool Revert);

/// <summary>What moving the schema to a version does: the steps in order (none when it is there), and the version it ends at.</summary>
public sealed record SchemaMovePlan(IReadOnlyList<MigrationStep> Steps, long TargetVersion);

/// <summary>
/// Moving the schema to a chosen version (<c>atc-gc migrate --to VERSION</c>): newer migrations are
/// reverted with their Down steps, newest first; missing older ones are applied. Under the same
/// advisory lock as <see cref="DatabaseMigrator.MigrateAsync"/>.
/// </summary>
public static class SchemaMove
{
    /// <summary>What <see cref="MoveAsync"/> would do now; reads only.</summary>
    public static async Task<SchemaMovePlan> PlanAsync(string connectionString, long target, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        RequireKnown(target);
        return Plan(await AppliedAsync(connectionString, cancellationToken), target);
    }

    /// <summary>Moves the schema to <paramref name="target"/>; returns the steps taken.</summary>
    public static Task<SchemaMovePlan> MoveAsync(
        string connectionString, long target, Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        RequireKnown(target);
        return DatabaseMigrator.UnderLockAsync(
            connectionString,
            () => DatabaseMigrator.WithRunner(connectionString, loggerFactory, (runner, versionLoader) =>
            {
                var plan = Plan([.. versionLoader.VersionInfo.AppliedMigrations()], target);
                if (plan.Steps.Any(s => s.Revert))
                {
                    runner.MigrateDown(target);
                }

                if (plan.Steps.Any(s => !s.Revert))
                {
                    runner.MigrateUp(target);
                }

                return plan;
            }),
            cancellationToken);
    }

    /// <summary>A version this build has a migration for; anything else is bad input.</summary>
    public static bool IsKnown(long version) => DatabaseMigrator.KnownMigrations.ContainsKey(version);

    private static void RequireKnown(long target)
    {
        if (!IsKnown(target))
        {
            throw new ArgumentOutOfRangeException(nameof(target), target, $"unknown schema version {target}: known versions are {string.Join(", ", DatabaseMigrator.KnownVersions)}");
        }
    }

    private static SchemaMovePlan Plan(IReadOnlyCollection<long> applied, long target)
    {
        var foreign = applied.Where(v => v > target && !IsKnown(v)).Order().ToArray();
        if (foreign.Length > 0)
        {
            throw new UnknownMigrationException(
                $"the database has migration(s) {string.Join(", ", foreign)} that this atc-gc does not know: revert them with the atc-gc that applied them");
        }

        var revert = applied.Where(v => v > target).OrderDescending().Select(v => new MigrationStep(v, DatabaseMigrator.KnownMigrations[v], Revert: true));
        var apply = DatabaseMigrator.KnownVersions.Where(v => v <= target && !applied.Contains(v)).Select(v => new MigrationStep(v, DatabaseMigrator.KnownMigrations[v], Revert: false));
        return new SchemaMovePlan([.. revert, .. apply], target);
    }

    /// <summary>The applied versions from FluentMigrator's version table, without creating it (none when it does not exist).</summary>
    private static async Task<IReadOnlyCollection<long>> AppliedAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT to_regclass('public.\"VersionInfo\"') IS NOT NULL", connection);
        if (await exists.ExecuteScalarAsync(cancellationToken) is not true)
        {
            return [];
        }

        await using var select = new NpgsqlCommand("SELECT \"Version\" FROM public.\"VersionInfo\"", connection);
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        var versions = new List<long>();
        while (await reader.ReadAsync(cancellationToken))
        {
            versions.Add(reader.GetInt64(0));
        }

        return versions;
    }
}

/// <summary>The database holds a migration this build does not know, so it cannot be moved below it; nothing was changed.</summary>
public sealed class UnknownMigrationException : InvalidOperationException
{
    public UnknownMigrationException(string message)
        : base(message)
    {
    }

    public UnknownMigrationException()
    {
    }

    public UnknownMigrationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
