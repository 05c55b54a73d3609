using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Model;

namespace Atc.Gc.IntegrationTests.Collection;

public sealed class BuildCollectorTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    private const string Builds = "builds";

    [Fact]
    public async Task A_succeeded_build_is_released_at_once()
    {
        var build = await FinishedBuildAsync(BuildStatus.Succeeded);
        await using var harness = new CollectorHarness(DataSource);

        var report = await harness.RunAsync(Builds);

        Assert.Equal(1, report.Changed);
        Assert.True(await IsReleasedAsync(build));
    }

    [Fact]
    public async Task The_latest_failed_build_of_a_job_is_kept_for_the_grace_then_released()
    {
        var build = await FinishedBuildAsync(BuildStatus.Failed);
        await using var harness = new CollectorHarness(DataSource);

        var kept = await harness.RunAsync(Builds);
        await Given.ExecuteAsync("UPDATE builds SET ended_at = now() - interval '2 hours' WHERE id = @build", new { build });
        var released = await harness.RunAsync(Builds);

        Assert.Equal((1, 0), (kept.Examined, kept.Changed));
        Assert.Equal(1, released.Changed);
        Assert.True(await IsReleasedAsync(build));
    }

    [Fact]
    public async Task An_errored_latest_build_is_kept_like_a_failed_one()
    {
        var build = await FinishedBuildAsync(BuildStatus.Errored);
        await using var harness = new CollectorHarness(DataSource);

        await harness.RunAsync(Builds);

        Assert.False(await IsReleasedAsync(build));
    }

    [Fact]
    public async Task A_failed_build_is_released_once_a_newer_build_of_its_job_completed()
    {
        var job = await Given.JobAsync();
        var failed = await FinishedBuildAsync(BuildStatus.Failed, job);
        var newer = await FinishedBuildAsync(BuildStatus.Succeeded, job);
        await using var harness = new CollectorHarness(DataSource);

        await harness.RunAsync(Builds);

        Assert.True(await IsReleasedAsync(failed));
        Assert.True(await IsReleasedAsync(newer));
    }

    [Fact]
    public async Task A_one_off_build_is_kept_for_its_grace_then_released()
    {
        var build = await Store.Builds.CreateAsync(jobId: null);
        await Store.Builds.FinishAsync(build, BuildStatus.Succeeded);
        await using var harness = new CollectorHarness(DataSource);

        await harness.RunAsync(Builds);
        Assert.False(await IsReleasedAsync(build));

        await Given.ExecuteAsync("UPDATE builds SET ended_at = now() - interval '10 minutes' WHERE id = @build", new { build });
        await harness.RunAsync(Builds);
        Assert.True(await IsReleasedAsync(build));
    }

    [Fact]
    public async Task A_running_build_is_never_released()
    {
        var build = await Given.BuildAsync();
        await Store.Builds.StartAsync(build);
        await using var harness = new CollectorHarness(DataSource);

        var report = await harness.RunAsync(Builds);

        Assert.Equal(0, report.Examined);
        Assert.False(await IsReleasedAsync(build));
    }

    [Fact]
    public async Task Builds_are_released_in_chunks_that_walk_past_kept_builds()
    {
        var jobs = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            jobs.Add(await Given.JobAsync(job: $"job-{i}"));
        }

        // Per job: a kept latest failure, then released successes and failures of other jobs around it.
        foreach (var job in jobs)
        {
            await FinishedBuildAsync(BuildStatus.Succeeded, job);
            await FinishedBuildAsync(BuildStatus.Succeeded, job);
            await FinishedBuildAsync(BuildStatus.Failed, job);
        }

        await using var harness = new CollectorHarness(DataSource, new Dictionary<string, string?> { ["Collector:BatchSize"] = "2" });

        var report = await harness.RunAsync(Builds);

        Assert.Equal(15, report.Examined);
        Assert.Equal(10, report.Changed);
    }

    private async Task<long> FinishedBuildAsync(BuildStatus status, long? job = null)
    {
        var build = await Given.BuildAsync(job);
        await Store.Builds.FinishAsync(build, status);
        return build;
    }

    private Task<bool> IsReleasedAsync(long build) =>
        Given.ScalarAsync<bool>("SELECT released_at IS NOT NULL FROM builds WHERE id = @build", new { build });

    [Fact]
    public async Task An_aborted_latest_build_is_kept_for_the_grace_like_a_failed_one()
    {
        var build = await FinishedBuildAsync(BuildStatus.Aborted);
        await using var harness = new CollectorHarness(DataSource);

        await harness.RunAsync(Builds);

        Assert.False(await IsReleasedAsync(build));
    }
}
