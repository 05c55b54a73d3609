using Atc.Gc.Database;
using Atc.Gc.IntegrationTests.Infrastructure;
using Npgsql;

namespace Atc.Gc.IntegrationTests.Cli;

/// <summary>
/// The listings and inspections never migrate: against a database with no schema, or an older one,
/// they say which version is needed in one line, exit 3, and leave the database as it was.
/// </summary>
public sealed class ReadOnlyCommandTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    public static TheoryData<string[]> Commands => new()
    {
        new[] { "volumes" },
        new[] { "containers" },
        new[] { "workers" },
        new[] { "caches" },
        new[] { "explain", "vol-1" },
        new[] { "gc", "status" },
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Against_an_unmigrated_database_a_listing_names_the_version_needed_and_creates_nothing(string[] command)
    {
        var database = await Fixture.CreateScratchDatabaseAsync("readonly");

        var (code, stdout, stderr) = await AtcGcProcess.RunAsync([.. command, "--database", database]);

        Assert.Equal(3, code);
        Assert.Equal(string.Empty, stdout);
        Assert.Contains($"has schema version 0, this atc-gc needs version {SchemaVersion.Needed}: run 'atc-gc migrate'", Assert.Single(stderr.Trim().Split('\n')), StringComparison.Ordinal);
        Assert.Empty(await TablesAsync(database));
    }

    [Fact]
    public async Task Against_an_older_schema_a_listing_names_the_version_needed_and_changes_nothing()
    {
        var database = await Fixture.CreateScratchDatabaseAsync("older");
        await ExecuteAsync(database, """CREATE TABLE "VersionInfo" ("Version" bigint NOT NULL, "AppliedOn" timestamp, "Description" varchar(1024)); INSERT INTO "VersionInfo" VALUES (1, now(), 'initial')""");

        var (code, _, stderr) = await AtcGcProcess.RunAsync(["volumes", "--database", database]);

        Assert.Equal(3, code);
        Assert.Contains($"has schema version 1, this atc-gc needs version {SchemaVersion.Needed}", stderr, StringComparison.Ordinal);
        Assert.Equal(["VersionInfo"], await TablesAsync(database));
    }

    [Fact]
    public async Task Migrate_still_migrates_a_database_a_listing_refused()
    {
        var database = await Fixture.CreateScratchDatabaseAsync("migrated");
        var refused = await AtcGcProcess.RunAsync(["workers", "--database", database]);

        var migrate = await AtcGcProcess.RunAsync(["migrate", "--database", database]);
        var listing = await AtcGcProcess.RunAsync(["workers", "--database", database]);

        Assert.Equal(3, refused.ExitCode);
        Assert.True(migrate.ExitCode == 0, migrate.StandardError);
        Assert.True(listing.ExitCode == 0, listing.StandardError);
    }

    private static async Task<List<string>> TablesAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var tables = new List<string>();
        while (await reader.ReadAsync())
        {
            tables.Add(reader.GetString(0));
        }

        return tables;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
