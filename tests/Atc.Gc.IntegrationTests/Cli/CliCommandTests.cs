using System.Text.Json;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Lifecycle;
using Atc.Gc.Model;
using Atc.Gc.Scheduling;
using Atc.Gc.Workers;

namespace Atc.Gc.IntegrationTests.Cli;

/// <summary>The atc-gc commands, run as a real process against the test database.</summary>
public sealed class CliCommandTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task Migrate_reports_the_schema_current()
    {
        var (code, stdout, _) = await AtcGcAsync("migrate");

        Assert.Equal(0, code);
        Assert.Contains("schema is current at version", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task States_prints_the_diagram_and_refuses_an_unknown_format_in_one_line()
    {
        var dot = await AtcGcAsync("states", "--format", "dot");
        var bad = await AtcGcAsync("states", "--format", "png");

        Assert.Equal(0, dot.ExitCode);
        Assert.Contains("\"Initialized\" -> \"Destroying\"", dot.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(2, bad.ExitCode);
        Assert.StartsWith("atc-gc: Argument 'png' not recognized", bad.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Volumes_lists_and_filters_by_worker_state_and_orphans()
    {
        await Given.WorkerAsync("w1");
        await Given.WorkerAsync("w2");
        var owned = await Given.VolumeAsync(VolumeState.Initialized, "w1");
        var orphan = await Given.OrphanAsync(VolumeState.Created, "w1");
        var other = await Given.VolumeAsync(VolumeState.Creating, "w2");

        var all = await JsonAsync("volumes", "--json");
        var w1Initialized = await JsonAsync("volumes", "--worker", "w1", "--state", "initialized", "--json");
        var orphans = await JsonAsync("volumes", "--orphaned", "--json");
        var table = await AtcGcAsync("volumes", "--worker", "w2");

        Assert.Equal(3, all.GetProperty("total").GetInt64());
        Assert.Equal([owned.Handle], Handles(w1Initialized));
        Assert.Equal([orphan.Handle], Handles(orphans));
        Assert.Contains(other.Handle, table.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("1 of 1 volumes", table.StandardOutput, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "volumes", "--worker", "nobody" }, "no worker named 'nobody'")]
    [InlineData(new[] { "volumes", "--state", "exploding" }, "'exploding' is not a volume_state")]
    [InlineData(new[] { "containers", "--worker", "nobody" }, "no worker named 'nobody'")]
    [InlineData(new[] { "explain", "no-such-volume" }, "no volume with handle 'no-such-volume'")]
    [InlineData(new[] { "explain", "../etc" }, "not a valid handle")]
    [InlineData(new[] { "land-worker", "nobody" }, "no worker named 'nobody'")]
    [InlineData(new[] { "clear-resource-cache", "--pipeline", "nope", "--resource", "repo", "--yes" }, "no pipeline named 'nope'")]
    [InlineData(new[] { "clear-task-cache", "--pipeline", "nope", "--job", "j", "--step", "s", "--yes" }, "no pipeline named 'nope'")]
    public async Task Bad_names_are_one_line_on_stderr_and_exit_2(string[] arguments, string message)
    {
        var (code, stdout, stderr) = await AtcGcAsync(arguments);

        Assert.Equal(2, code);
        Assert.Equal(string.Empty, stdout);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains(message, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_database_is_one_line_and_exit_3()
    {
        var (code, _, stderr) = await AtcGcAsync(["volumes", "--database", "Host=127.0.0.1;Port=1;Database=x;Username=u;Timeout=3"], withDatabase: false);

        Assert.Equal(3, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("cannot use the database at 127.0.0.1:1/x", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Containers_workers_and_caches_list_what_exists()
    {
        await Given.WorkerAsync("w1");
        var build = await Given.BuildAsync();
        var container = await Given.ContainerAsync("w1", build);
        await Given.VolumeAsync(VolumeState.Initialized, "w1", VolumeOwners.Container(container.Id));
        var pipeline = await Store.Pipelines.EnsurePipelineAsync("main");
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "s");
        await Store.Pipelines.EnsureResourceAsync(pipeline, "repo", config);
        await Store.ResourceCaches.AcquireAsync(config, """{"ref":"abc"}""", "p", CacheUser.Build(build));

        var containers = await JsonAsync("containers", "--json");
        var workers = await JsonAsync("workers", "--json");
        var caches = await JsonAsync("caches", "--pipeline", "main", "--json");

        Assert.Equal(container.Handle, containers.GetProperty("containers")[0].GetProperty("handle").GetString());
        Assert.Equal(1, containers.GetProperty("containers")[0].GetProperty("volumes").GetInt64());
        var worker = workers.GetProperty("workers")[0];
        Assert.Equal(("w1", 1L, 1L), (worker.GetProperty("name").GetString(), worker.GetProperty("initialized").GetInt64(), worker.GetProperty("containers").GetInt64()));
        var cache = caches.GetProperty("caches")[0];
        Assert.Equal(("main/repo", 1L, 1L), (cache.GetProperty("resources").GetString(), cache.GetProperty("uses").GetInt64(), cache.GetProperty("runningUses").GetInt64()));
    }

    [Fact]
    public async Task Clear_resource_cache_releases_unused_caches_and_names_the_running_build_that_keeps_one()
    {
        await Given.WorkerAsync("w1");
        var pipeline = await Store.Pipelines.EnsurePipelineAsync("main");
        var job = await Store.Pipelines.EnsureJobAsync(pipeline, "unit");
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "s");
        await Store.Pipelines.EnsureResourceAsync(pipeline, "repo", config);
        var finished = await Store.Builds.CreateAsync(job);
        var running = await Store.Builds.CreateAsync(job);
        var old = (await Store.ResourceCaches.AcquireAsync(config, """{"ref":"old"}""", "p", CacheUser.Build(finished))).Cache!;
        var current = (await Store.ResourceCaches.AcquireAsync(config, """{"ref":"new"}""", "p", CacheUser.Build(running))).Cache!;
        await Store.Builds.FinishAsync(finished, BuildStatus.Succeeded);
        var oldVolume = await Given.VolumeAsync(VolumeState.Initialized, "w1", VolumeOwners.ResourceCache(old.Id));

        var (code, stdout, _) = await AtcGcAsync("clear-resource-cache", "--pipeline", "main", "--resource", "repo", "--yes");

        Assert.Equal(0, code);
        Assert.Contains("cleared 1 cache(s) of main/repo; 1 volume(s) released", stdout, StringComparison.Ordinal);
        Assert.Contains($"kept cache {current.Id}", stdout, StringComparison.Ordinal);
        Assert.Contains($"used by running build {running} of main/unit", stdout, StringComparison.Ordinal);
        Assert.False((await Store.Volumes.FindAsync(oldVolume.Id))!.Owners.Any);
        Assert.Equal([current.Id], await Given.QueryAsync<long>("SELECT id FROM resource_caches"));
    }

    [Fact]
    public async Task Clear_resource_cache_of_one_version_leaves_the_others()
    {
        var pipeline = await Store.Pipelines.EnsurePipelineAsync("main");
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "s");
        await Store.Pipelines.EnsureResourceAsync(pipeline, "repo", config);
        await Store.ResourceCaches.FindOrCreateCacheAsync(config, """{"ref":"a","branch":"main"}""", "p");
        var kept = (await Store.ResourceCaches.FindOrCreateCacheAsync(config, """{"ref":"b"}""", "p")).Cache!;

        var result = await JsonAsync("clear-resource-cache", "--pipeline", "main", "--resource", "repo", "--version", """{"branch":"main","ref":"a"}""", "--json", "--yes");

        Assert.Equal(1, result.GetProperty("caches").GetInt32());
        Assert.Equal([kept.Id], await Given.QueryAsync<long>("SELECT id FROM resource_caches"));
    }

    [Theory]
    [InlineData("{\"ref\":", "not valid JSON")]
    [InlineData("[1]", "must be a JSON object")]
    [InlineData("{\"ref\":\"\\u0000\"}", "U+0000")]
    [InlineData("{\"a\\u0000\":\"x\"}", "U+0000")]
    [InlineData("{\"ref\":1e999999}", "a number the database cannot store")]
    [InlineData("{\"ref\":1e-999999}", "a number the database cannot store")]
    public async Task Clear_resource_cache_with_a_malformed_version_changes_nothing(string version, string message)
    {
        var pipeline = await Store.Pipelines.EnsurePipelineAsync("main");
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "s");
        await Store.Pipelines.EnsureResourceAsync(pipeline, "repo", config);
        await Store.ResourceCaches.FindOrCreateCacheAsync(config, """{"ref":"a"}""", "p");

        var (code, _, stderr) = await AtcGcAsync("clear-resource-cache", "--pipeline", "main", "--resource", "repo", "--version", version, "--yes");

        Assert.Equal(2, code);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.Equal(1, await Given.ScalarAsync<int>("SELECT count(*) FROM resource_caches"));
    }

    [Fact]
    public async Task Clear_resource_cache_of_an_unknown_resource_changes_nothing()
    {
        var pipeline = await Store.Pipelines.EnsurePipelineAsync("main");
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "s");
        await Store.Pipelines.EnsureResourceAsync(pipeline, "repo", config);
        await Store.ResourceCaches.FindOrCreateCacheAsync(config, """{"ref":"a"}""", "p");

        var (code, _, stderr) = await AtcGcAsync("clear-resource-cache", "--pipeline", "main", "--resource", "nope", "--yes");

        Assert.Equal(2, code);
        Assert.Contains("pipeline 'main' has no resource 'nope'", stderr, StringComparison.Ordinal);
        Assert.Equal(1, await Given.ScalarAsync<int>("SELECT count(*) FROM resource_caches"));
    }

    [Fact]
    public async Task Clear_task_cache_deletes_the_steps_caches_and_releases_their_volumes()
    {
        await Given.WorkerAsync("w1");
        var job = await Given.JobAsync("main", "unit");
        var m2 = await Store.TaskCaches.FindOrCreateAsync(job, "compile", "/root/.m2");
        await Store.TaskCaches.FindOrCreateAsync(job, "compile", "/root/.npm");
        await Store.TaskCaches.FindOrCreateAsync(job, "lint", "/cache");
        var volume = await Given.VolumeAsync(VolumeState.Initialized, "w1", VolumeOwners.TaskCache(m2));

        var one = await AtcGcAsync("clear-task-cache", "--pipeline", "main", "--job", "unit", "--step", "compile", "--path", "/root/.m2", "--yes");
        var rest = await JsonAsync("clear-task-cache", "--pipeline", "main", "--job", "unit", "--step", "compile", "--json", "--yes");
        var bad = await AtcGcAsync("clear-task-cache", "--pipeline", "main", "--job", "nope", "--step", "compile", "--yes");

        Assert.Contains("cleared 1 task cache(s); 1 volume(s) released", one.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(1, rest.GetProperty("taskCaches").GetInt32());
        Assert.Equal(["lint"], await Given.QueryAsync<string>("SELECT step_name FROM task_caches"));
        Assert.False((await Store.Volumes.FindAsync(volume.Id))!.Owners.Any);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("pipeline 'main' has no job 'nope'", bad.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_traces_a_live_volume_to_its_build_and_job()
    {
        await Given.WorkerAsync("w1");
        var job = await Given.JobAsync("main", "unit");
        var build = await Given.BuildAsync(job);
        var container = await Given.ContainerAsync("w1", build);
        var volume = await Given.VolumeAsync(VolumeState.Initialized, "w1", VolumeOwners.Container(container.Id));

        var (code, stdout, _) = await AtcGcAsync("explain", volume.Handle);

        Assert.Equal(0, code);
        Assert.Contains("alive: initialized", stdout, StringComparison.Ordinal);
        Assert.Contains($"owned by container {container.Handle} (creating) of build {build} of job main/unit, pending", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_says_when_a_volume_goes_on_the_next_pass_because_its_build_finished()
    {
        await Given.WorkerAsync("w1");
        var build = await Given.BuildAsync();
        var container = await Given.ContainerAsync("w1", build);
        await Store.Containers.MarkCreatedAsync(container.Id);
        var volume = await Given.VolumeAsync(VolumeState.Initialized, "w1", VolumeOwners.Container(container.Id));
        await Store.Builds.FinishAsync(build, BuildStatus.Succeeded);

        var explained = await JsonAsync("explain", volume.Handle, "--json");

        var verdict = explained.GetProperty("verdict");
        Assert.True(verdict.GetProperty("collectable").GetBoolean());
        Assert.StartsWith("will be collected on the next pass", verdict.GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.Equal(VolumeState.Initialized, (await Store.Volumes.FindAsync(volume.Id))!.State);
    }

    [Fact]
    public async Task Explain_a_destroying_volume_shows_its_failed_attempts()
    {
        await Given.WorkerAsync("w1");
        var volume = await Given.DestroyingAsync("w1");
        await Given.ExecuteAsync("UPDATE volumes SET delete_attempts = 2, last_delete_error = 'HTTP 500 disk on fire'");

        var (_, stdout, _) = await AtcGcAsync("explain", volume.Handle);

        Assert.Contains("being collected", stdout, StringComparison.Ordinal);
        Assert.Contains("2 failed delete attempt(s); last error: HTTP 500 disk on fire", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Worker_commands_land_retire_and_prune()
    {
        await Given.WorkerAsync("w1");
        await Given.WorkerAsync("w2");
        await Given.VolumeAsync(VolumeState.Initialized, "w2");

        var land = await AtcGcAsync("land-worker", "w1");
        var retire = await AtcGcAsync("retire-worker", "w1");
        var pruneRunning = await AtcGcAsync("prune-worker", "w2", "--yes");
        var pruneForced = await AtcGcAsync("prune-worker", "w2", "--force", "--yes");

        Assert.Contains("worker 'w1' is landing", land.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("worker 'w1' is retiring", retire.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(2, pruneRunning.ExitCode);
        Assert.Contains("only stalled or landed workers can be pruned", pruneRunning.StandardError, StringComparison.Ordinal);
        Assert.Contains("pruned worker 'w2' and 1 volume rows", pruneForced.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(["w1"], await Given.QueryAsync<string>("SELECT name FROM workers"));
    }

    [Fact]
    public async Task Collect_dry_run_reports_json_and_a_real_pass_needs_the_worker_secret()
    {
        await Given.WorkerAsync("w1");
        await Given.OrphanAsync(VolumeState.Initialized, "w1");

        var dryRun = await JsonAsync("collect", "--once", "--dry-run", "--json");
        var withoutSecret = await AtcGcAsync("collect", "--once");

        Assert.True(dryRun.GetProperty("dryRun").GetBoolean());
        var orphans = dryRun.GetProperty("collectors").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "orphaned-volumes");
        Assert.Equal(1, orphans.GetProperty("changed").GetInt64());
        Assert.Equal(VolumeState.Initialized.ToDb(), await Given.ScalarAsync<string>("SELECT state::text FROM volumes"));
        Assert.Equal(2, withoutSecret.ExitCode);
        Assert.Contains("worker token secret", withoutSecret.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Worker_token_prints_the_token_derived_from_the_secret()
    {
        const string Secret = "cli-test-secret-0123456789";

        var (code, stdout, _) = await AtcGcAsync(["worker-token", "w1"], environment: new() { ["ATC_GC_WORKER_SECRET"] = Secret });

        Assert.Equal(0, code);
        Assert.Equal(WorkerTokens.Derive(Secret, "w1", 0), stdout.Trim());
    }

    private Task<(int ExitCode, string StandardOutput, string StandardError)> AtcGcAsync(params string[] arguments) => AtcGcAsync(arguments, true);

    private Task<(int ExitCode, string StandardOutput, string StandardError)> AtcGcAsync(
        string[] arguments, bool withDatabase = true, Dictionary<string, string?>? environment = null) =>
        AtcGcProcess.RunAsync(withDatabase ? [.. arguments, "--database", Fixture.ConnectionString] : arguments, environment);

    private async Task<JsonElement> JsonAsync(params string[] arguments)
    {
        var (code, stdout, stderr) = await AtcGcAsync(arguments);
        Assert.True(code == 0, stderr);
        return JsonDocument.Parse(stdout).RootElement;
    }

    private static string[] Handles(JsonElement listing) =>
        [.. listing.GetProperty("volumes").EnumerateArray().Select(v => v.GetProperty("handle").GetString()!)];
}
