using Atc.Gc.Database;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Migrations;

namespace Atc.Gc.IntegrationTests;

public sealed class MigrationTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task Processes_migrating_a_fresh_database_at_once_apply_each_migration_exactly_once()
    {
        var scratch = await Fixture.CreateScratchDatabaseAsync("migrate_race");

        var reports = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(() => DatabaseMigrator.MigrateAsync(scratch))));

        var applied = reports.SelectMany(r => r.Applied).ToList();
        Assert.Equal(DatabaseMigrator.KnownVersions, applied.Order());
        Assert.All(reports, r => Assert.Equal(DatabaseMigrator.KnownVersions[^1], r.CurrentVersion));
    }

    [Fact]
    public async Task Migrating_a_current_database_applies_nothing()
    {
        var report = await DatabaseMigrator.MigrateAsync(Fixture.ConnectionString);

        Assert.Empty(report.Applied);
        Assert.Equal(DatabaseMigrator.KnownVersions[^1], report.CurrentVersion);
    }

    [Fact]
    public async Task An_unreachable_database_is_reported_in_one_line_naming_where_it_was_looked_for()
    {
        var ex = await Assert.ThrowsAsync<DatabaseUnavailableException>(() =>
            AtcGcDatabase.MigrateAsync("Host=127.0.0.1;Port=1;Database=nowhere;Username=x;Timeout=3"));

        Assert.StartsWith("cannot use the database at 127.0.0.1:1/nowhere:", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public async Task A_malformed_connection_string_is_reported_as_such()
    {
        var ex = await Assert.ThrowsAsync<DatabaseUnavailableException>(() => AtcGcDatabase.MigrateAsync("Hots=nowhere;Prot=x"));

        Assert.Contains("malformed", ex.Message, StringComparison.Ordinal);
    }
}
