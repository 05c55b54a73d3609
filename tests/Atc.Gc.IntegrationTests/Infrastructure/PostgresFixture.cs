using Atc.Gc.Database;
using Atc.Gc.Embedded;
using Atc.Gc.Scheduling;
using Npgsql;
using Respawn;
using Respawn.Graph;

namespace Atc.Gc.IntegrationTests.Infrastructure;

/// <summary>
/// One real PostgreSQL for the whole run: the database named by ATC_GC_TEST_DATABASE (it is wiped
/// between tests), or a throwaway embedded cluster started from the installed server binaries.
/// Migrated once; Respawn empties every table but the migration history before each test.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public const string ConnectionStringVariable = "ATC_GC_TEST_DATABASE";

    private Respawner? respawner;
    private AtcGcDatabase? database;

    public AtcGcDatabase Database => database ?? throw new InvalidOperationException("the fixture is not initialized");

    public NpgsqlDataSource DataSource => Database.DataSource;

    public AtcGcStore Store { get; private set; } = null!;

    public string ConnectionString => Database.ConnectionString;

    public async Task InitializeAsync()
    {
        var configured = Environment.GetEnvironmentVariable(ConnectionStringVariable);
        database = string.IsNullOrWhiteSpace(configured)
            ? await EmbeddedDatabase.OpenAsync(new EmbeddedPostgresOptions
            {
                Directory = Path.Combine(Path.GetTempPath(), $"atc-gc-tests-{Guid.NewGuid():N}"[..24]),
                Database = "atc_gc_tests",
                Ephemeral = true,
            })
            : await AtcGcDatabase.OpenAsync(configured);
        Store = new AtcGcStore(DataSource);

        await using var connection = await DataSource.OpenConnectionAsync();
        respawner = await Respawner.CreateAsync(connection, new RespawnerOptions
        {
            DbAdapter = DbAdapter.Postgres,
            SchemasToInclude = ["public"],
            // The schema's own rows stay: the migration history and the database identity (one row, made by a migration).
            TablesToIgnore = [new Table("public", "VersionInfo"), new Table("public", "installation")],
        });
    }

    /// <summary>Empties every table (the schema stays).</summary>
    public async Task ResetAsync()
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        await respawner!.ResetAsync(connection);
    }

    /// <summary>Creates an empty extra database in the same server, for tests that need their own (migrations).</summary>
    public async Task<string> CreateScratchDatabaseAsync(string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 63)];
        await using var connection = await DataSource.OpenConnectionAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await create.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name, Pooling = false }.ConnectionString;
    }

    public async Task DisposeAsync()
    {
        if (database is not null)
        {
            await database.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresGroup : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}

/// <summary>Base of tests against the real database: each test starts from empty tables.</summary>
[Collection(PostgresGroup.Name)]
public abstract class PostgresTest(PostgresFixture fixture) : IAsyncLifetime
{
    protected PostgresFixture Fixture { get; } = fixture;

    protected AtcGcStore Store => Fixture.Store;

    protected NpgsqlDataSource DataSource => Fixture.DataSource;

    protected Scenario Given => new(Fixture.Store, Fixture.DataSource);

    public virtual Task InitializeAsync() => Fixture.ResetAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;
}
