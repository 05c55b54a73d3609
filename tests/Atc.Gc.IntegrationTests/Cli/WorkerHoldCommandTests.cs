using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.IntegrationTests.Safety;
using Atc.Gc.Scheduling;

namespace Atc.Gc.IntegrationTests.Cli;

/// <summary>Held workers as an operator sees them, adopt-worker, and a database that goes away mid-command.</summary>
public sealed class WorkerHoldCommandTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task Workers_names_a_held_worker_and_adopt_worker_lifts_the_hold()
    {
        await Given.WorkerAsync("w1");
        await Given.WorkerAsync("w2");
        await Given.ExecuteAsync(
            "UPDATE workers SET hold = 'unknown', hold_detail = '9 of the 10 volumes its agent reported are unknown to this database', held_since = now(), held_unknown = 9 WHERE name = 'w1'");

        var listed = await AtcGcAsync("workers");
        var adopted = await AtcGcAsync("adopt-worker", "w1");
        var unknown = await AtcGcAsync("adopt-worker", "nobody");

        Assert.Contains("HELD w1: unknown: 9 of the 10 volumes", listed.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("HELD w2", listed.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(0, adopted.ExitCode);
        Assert.Contains("destroys the 9 volume(s) unknown here", adopted.StandardOutput, StringComparison.Ordinal);
        var worker = await Store.Workers.FindAsync("w1");
        Assert.Null(worker!.Hold);
        Assert.True(await Given.ScalarAsync<bool>("SELECT release_unknown AND adopt_identity FROM workers WHERE name = 'w1'"));
        Assert.Equal((2, "atc-gc: no worker named 'nobody'"), (unknown.ExitCode, unknown.StandardError.Trim()));
    }

    [Fact]
    public async Task A_database_that_goes_away_in_the_middle_of_a_command_is_one_line_and_exit_3()
    {
        var pipeline = await Store.Pipelines.EnsurePipelineAsync("main");
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "repo-source");
        await Store.Pipelines.EnsureResourceAsync(pipeline, "repo", config);
        await Given.ExecuteAsync(
            """
            INSERT INTO resource_caches (resource_config_id, version, version_digest, params_hash)
            SELECT @config, jsonb_build_object('v', g), md5(g::text), 'p' FROM generate_series(1, 100000) g
            """, new { config });

        var clearing = AtcGcAsync("clear-resource-cache", "--pipeline", "main", "--resource", "repo", "--yes");
        await RaceWindow.WaitForStatementAsync(DataSource, "FROM resource_caches c");
        await Given.ExecuteAsync(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND strpos(query, 'FROM resource_caches c') > 0");
        var (code, _, stderr) = await clearing;

        Assert.Equal(3, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith("atc-gc: the database stopped answering:", stderr, StringComparison.Ordinal);
        Assert.Equal(100_000, await Given.ScalarAsync<long>("SELECT count(*) FROM resource_caches"));
    }

    private Task<(int ExitCode, string StandardOutput, string StandardError)> AtcGcAsync(params string[] arguments) =>
        AtcGcProcess.RunAsync([.. arguments, "--database", Fixture.ConnectionString]);
}
