using Atc.Gc.Migrations;
using Npgsql;

namespace Atc.Gc.Database;

/// <summary>The schema version a database is at, read without changing anything; what this build needs.</summary>
public static class SchemaVersion
{
    /// <summary>The newest migration this build knows: the version its queries need.</summary>
    public static long Needed { get; } = DatabaseMigrator.KnownVersions[^1];

    /// <summary>The highest applied migration; 0 when none is (no migration history at all).</summary>
    public static async Task<long> ReadAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        // Two statements: a query naming a table that does not exist fails when parsed, whatever guards it.
        await using var exists = dataSource.CreateCommand("SELECT to_regclass('public.\"VersionInfo\"') IS NOT NULL");
        if (await exists.ExecuteScalarAsync(cancellationToken) is not true)
        {
            return 0;
        }

        await using var version = dataSource.CreateCommand("SELECT coalesce(max(\"Version\"), 0) FROM public.\"VersionInfo\"");
        return Convert.ToInt64(await version.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The version, or a <see cref="DatabaseUnavailableException"/> naming the version needed when it is older.</summary>
    public static async Task<long> RequireAsync(NpgsqlDataSource dataSource, string where, CancellationToken cancellationToken = default)
    {
        var version = await ReadAsync(dataSource, cancellationToken);
        return version >= Needed
            ? version
            : throw new DatabaseUnavailableException(
                $"the database at {where} has schema version {version}, this atc-gc needs version {Needed}: run 'atc-gc migrate' (this command does not change the schema)");
    }
}
