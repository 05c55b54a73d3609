using Atc.Gc.IntegrationTests.Infrastructure;

namespace Atc.Gc.IntegrationTests.Collection;

public sealed class TaskCacheCollectorTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task A_task_cache_past_its_time_to_live_is_deleted_and_a_fresh_one_kept()
    {
        var job = await Given.JobAsync();
        var expired = await Store.TaskCaches.FindOrCreateAsync(job, "build", "/old", TimeSpan.FromMinutes(5));
        var fresh = await Store.TaskCaches.FindOrCreateAsync(job, "build", "/new", TimeSpan.FromMinutes(5));
        await Given.ExecuteAsync("UPDATE task_caches SET last_used = now() - interval '6 minutes' WHERE id = @expired", new { expired });
        await using var harness = new CollectorHarness(DataSource);

        var report = await harness.RunAsync("task-caches");

        Assert.Equal(1, report.Changed);
        Assert.Equal([fresh], await Given.QueryAsync<long>("SELECT id FROM task_caches"));
    }

    [Fact]
    public async Task Task_caches_of_archived_pipelines_are_deleted()
    {
        var pipeline = await Store.Pipelines.EnsurePipelineAsync("archived");
        var job = await Store.Pipelines.EnsureJobAsync(pipeline, "j");
        await Store.TaskCaches.FindOrCreateAsync(job, "build", "/cache");
        await Store.Pipelines.ArchivePipelineAsync(pipeline);
        await using var harness = new CollectorHarness(DataSource);

        Assert.Equal(1, (await harness.RunAsync("task-caches")).Changed);
    }

    [Fact]
    public async Task Task_caches_of_jobs_removed_from_their_pipeline_are_deleted()
    {
        var job = await Given.JobAsync();
        await Store.TaskCaches.FindOrCreateAsync(job, "build", "/cache");
        await Store.Pipelines.DeactivateJobAsync(job);
        await using var harness = new CollectorHarness(DataSource);

        Assert.Equal(1, (await harness.RunAsync("task-caches")).Changed);
    }

    [Fact]
    public async Task Using_a_task_cache_again_keeps_it_alive()
    {
        var job = await Given.JobAsync();
        await Store.TaskCaches.FindOrCreateAsync(job, "build", "/cache", TimeSpan.FromMinutes(5));
        await Given.ExecuteAsync("UPDATE task_caches SET last_used = now() - interval '6 minutes'");
        await Store.TaskCaches.FindOrCreateAsync(job, "build", "/cache", TimeSpan.FromMinutes(5));
        await using var harness = new CollectorHarness(DataSource);

        Assert.Equal(0, (await harness.RunAsync("task-caches")).Changed);
    }

    [Fact]
    public async Task A_task_cache_with_a_time_to_live_of_zero_never_expires()
    {
        var job = await Given.JobAsync();
        var forever = await Store.TaskCaches.FindOrCreateAsync(job, "build", "/forever", TimeSpan.Zero);
        await Given.ExecuteAsync("UPDATE task_caches SET last_used = now() - interval '10 years'");
        await using var harness = new CollectorHarness(DataSource);

        var report = await harness.RunAsync("task-caches");

        Assert.Equal(0, report.Changed);
        Assert.Equal([forever], await Given.QueryAsync<long>("SELECT id FROM task_caches"));
    }
}
