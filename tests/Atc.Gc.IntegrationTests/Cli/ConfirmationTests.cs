using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Lifecycle;
using Atc.Gc.Model;
using Atc.Gc.Scheduling;

namespace Atc.Gc.IntegrationTests.Cli;

/// <summary>
/// clear-resource-cache, clear-task-cache and prune-worker change the database only when told to:
/// --dry-run shows and changes nothing, no --yes without a terminal to ask is refused (exit 2) and
/// changes nothing, --yes does it.
/// </summary>
public sealed class ConfirmationTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    public static TheoryData<string> Commands => ["clear-resource-cache", "clear-task-cache", "prune-worker"];

    /// <summary>Each command's arguments, the plan its dry run shows, and what it says once done.</summary>
    private static readonly Dictionary<string, (string[] Arguments, string Plan, string Done)> Cases = new(StringComparer.Ordinal)
    {
        ["clear-resource-cache"] = (["clear-resource-cache", "--pipeline", "main", "--resource", "repo"], "would clear 1 cache(s) of main/repo; 1 volume(s) would be released", "cleared 1 cache(s)"),
        ["clear-task-cache"] = (["clear-task-cache", "--pipeline", "main", "--job", "unit", "--step", "compile"], "would clear 1 task cache(s); 1 volume(s) would be released", "cleared 1 task cache(s)"),
        ["prune-worker"] = (["prune-worker", "w1", "--force"], "would prune worker 'w1' and 2 volume rows", "pruned worker 'w1' and 2 volume rows"),
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Dry_run_shows_what_it_would_do_and_changes_nothing(string command)
    {
        var before = await GivenCachesAndAWorkerAsync();

        var (code, stdout, stderr) = await AtcGcAsync([.. Cases[command].Arguments, "--dry-run"]);

        Assert.True(code == 0, stderr);
        Assert.Contains(Cases[command].Plan, stdout, StringComparison.Ordinal);
        Assert.Contains("dry run: nothing was changed", stdout, StringComparison.Ordinal);
        Assert.Equal(before, await StateAsync());
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Without_yes_and_without_a_terminal_it_refuses_in_one_line_with_exit_2_and_changes_nothing(string command)
    {
        var before = await GivenCachesAndAWorkerAsync();

        var (code, stdout, stderr) = await AtcGcAsync(Cases[command].Arguments);

        Assert.Equal(2, code);
        Assert.Equal(string.Empty, stdout);
        Assert.Equal(
            $"atc-gc: {command} changes the database and standard input is not a terminal to ask: pass --yes to do it or --dry-run to only show it; nothing was changed",
            stderr.Trim());
        Assert.Equal(before, await StateAsync());
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task With_yes_it_does_it(string command)
    {
        var before = await GivenCachesAndAWorkerAsync();

        var (code, stdout, stderr) = await AtcGcAsync([.. Cases[command].Arguments, "--yes"]);

        Assert.True(code == 0, stderr);
        Assert.Contains(Cases[command].Done, stdout, StringComparison.Ordinal);
        Assert.NotEqual(before, await StateAsync());
    }

    [TerminalTheory]
    [InlineData("y\n", 0, "pruned worker 'w1' and 2 volume rows")]
    [InlineData("n\n", 1, "atc-gc: not confirmed; nothing was changed")]
    public async Task At_a_terminal_it_shows_the_plan_asks_and_does_it_only_on_yes(string typed, int exitCode, string outcome)
    {
        var before = await GivenCachesAndAWorkerAsync();

        var (code, screen) = await TerminalSession.RunAsync([.. Cases["prune-worker"].Arguments, "--database", Fixture.ConnectionString], typed);

        Assert.True(code == exitCode, screen);
        Assert.Contains("would prune worker 'w1' and 2 volume rows", screen, StringComparison.Ordinal);
        Assert.Contains("Go ahead? [y/N]", screen, StringComparison.Ordinal);
        Assert.Contains(outcome, screen, StringComparison.Ordinal);
        Assert.Equal(exitCode == 0, before != await StateAsync());
    }

    [Fact]
    public async Task Dry_run_with_json_gives_the_figures_a_clear_would_have()
    {
        var before = await GivenCachesAndAWorkerAsync();

        var (code, stdout, stderr) = await AtcGcAsync("clear-resource-cache", "--pipeline", "main", "--resource", "repo", "--dry-run", "--json");

        Assert.True(code == 0, stderr);
        using var json = System.Text.Json.JsonDocument.Parse(stdout);
        Assert.Equal((1, 1), (json.RootElement.GetProperty("caches").GetInt32(), json.RootElement.GetProperty("volumes").GetInt32()));
        Assert.Equal(before, await StateAsync());
    }

    /// <summary>Worker w1 with a resource cache of main/repo and a task cache of main/unit step compile, each holding one volume.</summary>
    private async Task<string> GivenCachesAndAWorkerAsync()
    {
        await Given.WorkerAsync("w1");
        var pipeline = await Store.Pipelines.EnsurePipelineAsync("main");
        var job = await Store.Pipelines.EnsureJobAsync(pipeline, "unit");
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "s");
        await Store.Pipelines.EnsureResourceAsync(pipeline, "repo", config);
        var cache = (await Store.ResourceCaches.FindOrCreateCacheAsync(config, """{"ref":"a"}""", "p")).Cache!;
        var taskCache = await Store.TaskCaches.FindOrCreateAsync(job, "compile", "/root/.m2");
        await Given.VolumeAsync(VolumeState.Initialized, "w1", VolumeOwners.ResourceCache(cache.Id));
        await Given.VolumeAsync(VolumeState.Initialized, "w1", VolumeOwners.TaskCache(taskCache));
        return await StateAsync();
    }

    /// <summary>What the three commands change: caches, workers, volume rows and their owners.</summary>
    private Task<string> StateAsync() => Given.ScalarAsync<string>(
        """
        SELECT format('%s resource caches, %s task caches, %s workers, %s volumes, %s owned by caches',
            (SELECT count(*) FROM resource_caches), (SELECT count(*) FROM task_caches), (SELECT count(*) FROM workers),
            (SELECT count(*) FROM volumes), (SELECT count(*) FROM volumes WHERE resource_cache_id IS NOT NULL OR task_cache_id IS NOT NULL))
        """);

    private Task<(int ExitCode, string StandardOutput, string StandardError)> AtcGcAsync(params string[] arguments) =>
        AtcGcProcess.RunAsync([.. arguments, "--database", Fixture.ConnectionString]);
}
