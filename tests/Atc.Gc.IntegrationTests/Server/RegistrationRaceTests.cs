using System.Net;
using System.Net.Http.Json;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Workers;
using Dapper;

namespace Atc.Gc.IntegrationTests.Server;

/// <summary>
/// A worker pruned while it registers: the registration's answer comes from its own transaction, so
/// it is an answer (the worker as registered), never a 500. The window is held open by a test-only
/// trigger that sleeps inside the registration's transaction while a prune waits on the worker's row,
/// so the prune lands the moment the registration commits; it is run twenty times (before the fix, each round
/// answered 500 about three times in four).
/// </summary>
public sealed class RegistrationRaceTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task A_worker_pruned_as_its_registration_commits_gets_an_answer_not_a_500()
    {
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource);
        await Given.ExecuteAsync(
            """
            CREATE FUNCTION test_slow_registration() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.2); RETURN NULL; END $$;
            CREATE TRIGGER test_slow_registration AFTER INSERT ON worker_base_resource_types
                FOR EACH STATEMENT EXECUTE FUNCTION test_slow_registration();
            """);
        try
        {
            for (var round = 0; round < 20; round++)
            {
                await Given.ExecuteAsync("INSERT INTO workers (name, base_url) VALUES ('w1', 'http://127.0.0.1:7788/')");
                using var client = orchestrator.ClientFor("w1");
                var registering = client.PutAsJsonAsync(
                    OrchestratorProtocol.WorkerPath("w1"), new RegisterWorkerRequest("http://127.0.0.1:7788/", [new("git", "git-image", "1")]), VolumeProtocol.Json);
                await Eventually.TrueAsync(
                    async () => await Given.ScalarAsync<int>("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'") == 1,
                    "the registration is inside its transaction");
                await using var pruner = await DataSource.OpenConnectionAsync();
                var pruning = pruner.ExecuteAsync("DELETE FROM workers WHERE name = 'w1'"); // waits for the registration's row lock

                using var response = await registering;
                await pruning;

                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                var worker = await response.Content.ReadFromJsonAsync<WorkerDto>(VolumeProtocol.Json);
                Assert.Equal(("w1", "running"), (worker!.Name, worker.State));
                Assert.Null(await Store.Workers.FindAsync("w1"));
            }
        }
        finally
        {
            await Given.ExecuteAsync("DROP TRIGGER test_slow_registration ON worker_base_resource_types; DROP FUNCTION test_slow_registration()");
        }
    }
}
