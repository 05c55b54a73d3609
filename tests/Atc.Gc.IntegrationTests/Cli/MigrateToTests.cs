using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Migrations;
using Npgsql;

namespace Atc.Gc.IntegrationTests.Cli;

/// <summary><c>atc-gc migrate --to VERSION</c>: a rollback to the version before the newest and back, shown first, asked, refused when unknown.</summary>
public sealed class MigrateToTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    private static long Newest => DatabaseMigrator.KnownVersions[^1];

    private static long Previous => DatabaseMigrator.KnownVersions[^2];

    [Fact]
    public async Task Migrate_to_the_previous_version_reverts_the_newest_migration_and_migrate_to_the_newest_applies_it_again()
    {
        var (database, migrated) = await MigratedDatabaseAsync("migrate_to");

        var down = await AtcGcAsync(database, "migrate", "--to", $"{Previous}", "--yes");

        Assert.True(down.ExitCode == 0, down.StandardError);
        Assert.Contains($"reverted {Newest} ({DatabaseMigrator.KnownMigrations[Newest]}); schema is at version {Previous}", down.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(Previous, await MaxVersionAsync(database));
        Assert.NotEqual(migrated, await SchemaAsync(database));

        var up = await AtcGcAsync(database, "migrate", "--to", $"{Newest}", "--yes");

        Assert.True(up.ExitCode == 0, up.StandardError);
        Assert.Contains($"applied {Newest}", up.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(Newest, await MaxVersionAsync(database));
        Assert.Equal(migrated, await SchemaAsync(database));
    }

    [Fact]
    public async Task Dry_run_shows_the_rollback_and_no_yes_without_a_terminal_is_refused_both_changing_nothing()
    {
        var (database, migrated) = await MigratedDatabaseAsync("migrate_to_dry");

        var dryRun = await AtcGcAsync(database, "migrate", "--to", $"{Previous}", "--dry-run");
        var refused = await AtcGcAsync(database, "migrate", "--to", $"{Previous}");

        Assert.True(dryRun.ExitCode == 0, dryRun.StandardError);
        Assert.Contains($"would revert {Newest} ({DatabaseMigrator.KnownMigrations[Newest]})", dryRun.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("dry run: nothing was changed", dryRun.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(2, refused.ExitCode);
        Assert.StartsWith("atc-gc: migrate changes the database and standard input is not a terminal", refused.StandardError, StringComparison.Ordinal);
        Assert.Equal(Newest, await MaxVersionAsync(database));
        Assert.Equal(migrated, await SchemaAsync(database));
    }

    [Fact]
    public async Task Migrate_dry_run_shows_what_a_plain_migrate_would_apply_and_applies_nothing()
    {
        var (database, _) = await MigratedDatabaseAsync("migrate_dry");
        await AtcGcAsync(database, "migrate", "--to", $"{Previous}", "--yes");

        var (code, stdout, stderr) = await AtcGcAsync(database, "migrate", "--dry-run");

        Assert.True(code == 0, stderr);
        Assert.Contains($"would apply {Newest} ({DatabaseMigrator.KnownMigrations[Newest]})", stdout, StringComparison.Ordinal);
        Assert.Equal(Previous, await MaxVersionAsync(database));
    }

    [Theory]
    [InlineData("999999")]
    [InlineData("-1")]
    public async Task An_unknown_version_is_refused_with_exit_2_and_changes_nothing(string version)
    {
        var (database, migrated) = await MigratedDatabaseAsync("migrate_to_unknown");

        var (code, stdout, stderr) = await AtcGcAsync(database, "migrate", "--to", version, "--yes");

        Assert.Equal(2, code);
        Assert.Equal(string.Empty, stdout);
        Assert.Equal($"atc-gc: --to: unknown schema version {version}: known versions are {string.Join(", ", DatabaseMigrator.KnownVersions)}; nothing was changed", stderr.Trim());
        Assert.Equal(migrated, await SchemaAsync(database));
    }

    /// <summary>A scratch database migrated to the newest version, and its schema then.</summary>
    private async Task<(string Database, string Schema)> MigratedDatabaseAsync(string prefix)
    {
        var database = await Fixture.CreateScratchDatabaseAsync(prefix);
        await DatabaseMigrator.MigrateAsync(database);
        return (database, await SchemaAsync(database));
    }

    private static async Task<long> MaxVersionAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT max(\"Version\") FROM \"VersionInfo\"", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The public schema's tables with their columns, and its functions, as one line.</summary>
    private static async Task<string> SchemaAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            SELECT coalesce((SELECT string_agg(table_name || '.' || column_name || ' ' || data_type, ', ' ORDER BY table_name, column_name)
                             FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'VersionInfo'), '')
                || ' | ' || coalesce((SELECT string_agg(proname, ', ' ORDER BY proname) FROM pg_proc WHERE pronamespace = 'public'::regnamespace), '')
            """, connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private static Task<(int ExitCode, string StandardOutput, string StandardError)> AtcGcAsync(string database, params string[] arguments) =>
        AtcGcProcess.RunAsync([.. arguments, "--database", database]);
}
