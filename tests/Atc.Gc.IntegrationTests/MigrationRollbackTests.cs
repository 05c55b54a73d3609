using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Migrations;
using Dapper;
using FluentMigrator.Runner;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Atc.Gc.IntegrationTests;

/// <summary>The migrations' Down steps: every migration undone leaves an empty schema, and applying them again gives the same schema.</summary>
public sealed class MigrationRollbackTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task Rolling_every_migration_back_leaves_nothing_and_applying_them_again_gives_the_same_schema()
    {
        var scratch = await Fixture.CreateScratchDatabaseAsync("rollback");
        await DatabaseMigrator.MigrateAsync(scratch);
        var migrated = await SchemaAsync(scratch);
        Assert.Contains(migrated, line => line.StartsWith("table volumes", StringComparison.Ordinal));

        MigrateDown(scratch, version: 0);

        Assert.Empty(await SchemaAsync(scratch));

        await DatabaseMigrator.MigrateAsync(scratch);
        Assert.Equal(migrated, await SchemaAsync(scratch));
    }

    [Fact]
    public async Task Rolling_back_to_each_version_gives_the_schema_of_migrating_up_to_it()
    {
        var rolledBack = await Fixture.CreateScratchDatabaseAsync("rollback_each");
        await DatabaseMigrator.MigrateAsync(rolledBack);

        foreach (var version in DatabaseMigrator.KnownVersions.Reverse().Skip(1))
        {
            var fresh = await Fixture.CreateScratchDatabaseAsync("up_to");
            Run(fresh, runner => runner.MigrateUp(version));

            MigrateDown(rolledBack, version);

            Assert.Equal(await SchemaAsync(fresh), await SchemaAsync(rolledBack));
        }
    }

    private static void MigrateDown(string connectionString, long version) => Run(connectionString, runner => runner.MigrateDown(version));

    private static void Run(string connectionString, Action<IMigrationRunner> migrate)
    {
        using var provider = new ServiceCollection()
            .AddFluentMigratorCore()
            .ConfigureRunner(runner => runner
                .AddPostgres()
                .WithGlobalConnectionString(connectionString)
                .ScanIn(typeof(DatabaseMigrator).Assembly).For.Migrations())
            .AddLogging()
            .BuildServiceProvider(validateScopes: false);
        using var scope = provider.CreateScope();
        migrate(scope.ServiceProvider.GetRequiredService<IMigrationRunner>());
    }

    /// <summary>Tables with their columns, constraints, indexes with their definitions, triggers, functions and enum types of the public schema, as sorted lines (the migrator's own version table left out).</summary>
    private static async Task<List<string>> SchemaAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        var lines = await connection.QueryAsync<string>(
            """
            SELECT 'table ' || c.relname || ' (' || string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END, ', ' ORDER BY a.attnum) || ') ' || coalesce(array_to_string(c.reloptions, ','), '')
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'VersionInfo'
            GROUP BY c.relname, c.reloptions
            UNION ALL
            SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
            FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> '"VersionInfo"'
            UNION ALL
            SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> 'VersionInfo'
            UNION ALL
            SELECT 'trigger ' || pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal
            UNION ALL
            SELECT 'function ' || p.proname || ' ' || md5(p.prosrc) FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
            UNION ALL
            SELECT 'type ' || t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
            FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid WHERE t.typnamespace = 'public'::regnamespace GROUP BY t.typname
            """);
        return [.. lines.Order(StringComparer.Ordinal)];
    }
}
