using System.Diagnostics;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Lifecycle;
using Atc.Gc.Scheduling;

namespace Atc.Gc.IntegrationTests.Collection;

/// <summary>Stuck, orphaned and destroying volumes, against fake workers over loopback HTTP.</summary>
public sealed class VolumeCollectorTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    private WorkerFleet? fleet;

    private WorkerFleet Fleet => fleet ??= new WorkerFleet(Store, Given);

    [Fact]
    public async Task Orphans_are_marked_deleted_on_their_worker_and_their_rows_removed_in_one_pass()
    {
        var worker = await Fleet.AddAsync("w1");
        await Fleet.OrphansAsync(worker, 120);
        await using var harness = new CollectorHarness(DataSource);

        var report = await harness.PassAsync();

        Assert.Equal(120, report.Of("orphaned-volumes").Changed);
        Assert.Equal(120, report.Of("destroying-volumes").Changed);
        Assert.Empty(worker.Volumes);
        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM volumes"));
        Assert.All(worker.DeleteRequests.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task Volumes_with_an_owner_are_never_sent_to_the_worker()
    {
        var worker = await Fleet.AddAsync("w1");
        var (_, owned) = await Fleet.VolumesAsync(worker, 3);
        var orphans = await Fleet.OrphansAsync(worker, 2);
        await using var harness = new CollectorHarness(DataSource);

        await harness.PassAsync();

        Assert.Equal(owned.Select(v => v.Handle).Order(), worker.Volumes.Keys.Order());
        Assert.DoesNotContain(worker.DeleteRequests.Keys, h => owned.Any(v => v.Handle == h));
        Assert.All(orphans, v => Assert.Contains(v.Handle, worker.DeleteRequests.Keys));
    }

    [Fact]
    public async Task A_parent_is_kept_while_its_child_lives_and_collected_after_the_child()
    {
        var worker = await Fleet.AddAsync("w1");
        var (container, volumes) = await Fleet.VolumesAsync(worker, 1);
        var parent = volumes[0];
        var child = (await Store.Volumes.CreateCopyOnWriteChildAsync(parent.Id, VolumeOwners.Container(container))).Volume!;
        await Store.Volumes.MarkCreatedAsync(child.Id);
        worker.Hold([child.Handle]);
        await using var harness = new CollectorHarness(DataSource);
        await Given.ReleaseContainerAsync(container);

        await harness.PassAsync();
        Assert.Equal([parent.Handle], worker.Volumes.Keys);
        Assert.Equal(VolumeState.Initialized, (await Store.Volumes.FindAsync(parent.Id))!.State);

        await harness.PassAsync();
        Assert.Empty(worker.Volumes);
        Assert.Null(await Store.Volumes.FindAsync(parent.Id));
    }

    [Theory]
    [InlineData("landing")]
    [InlineData("retiring")]
    public async Task Orphans_on_landing_and_retiring_workers_are_collected(string state)
    {
        var worker = await Fleet.AddAsync("w1");
        await Fleet.OrphansAsync(worker, 2);
        var (_, stillUsed) = await Fleet.VolumesAsync(worker, 1); // a running build's container keeps the worker draining
        await Given.ExecuteAsync("UPDATE workers SET state = @state::worker_state", new { state });
        await using var harness = new CollectorHarness(DataSource);

        await harness.PassAsync();

        Assert.Equal([stillUsed[0].Handle], worker.Volumes.Keys);
        Assert.Equal(state, await Given.ScalarAsync<string>("SELECT state::text FROM workers"));
    }

    [Theory]
    [InlineData("stalled")]
    [InlineData("landed")]
    public async Task Orphans_on_stalled_and_landed_workers_are_left_alone(string state)
    {
        var worker = await Fleet.AddAsync("w1");
        await Fleet.OrphansAsync(worker, 2);
        await Given.ExecuteAsync("UPDATE workers SET state = @state::worker_state", new { state });
        await using var harness = new CollectorHarness(DataSource);

        var report = await harness.PassAsync();

        Assert.Equal(0, report.Of("orphaned-volumes").Examined);
        Assert.Empty(worker.DeleteRequests);
        Assert.Equal(2, await Given.ScalarAsync<int>("SELECT count(*) FROM volumes WHERE state = 'initialized'"));
    }

    [Fact]
    public async Task A_failed_volume_is_reclaimed_from_its_worker_whatever_its_owners()
    {
        var worker = await Fleet.AddAsync("w1");
        var (container, volumes) = await Fleet.VolumesAsync(worker, 1);
        var config = await Store.ResourceCaches.FindOrCreateConfigAsync("git", "s");
        var cache = (await Store.ResourceCaches.FindOrCreateCacheAsync(config, "{}", "p")).Cache!;
        var failedOfCache = await Given.VolumeAsync(VolumeState.Failed, "w1", VolumeOwners.ResourceCache(cache.Id));
        var failedOfContainer = await Given.VolumeAsync(VolumeState.Failed, "w1", VolumeOwners.Container(container));
        worker.Hold([failedOfCache.Handle, failedOfContainer.Handle]);
        await using var harness = new CollectorHarness(DataSource);

        var report = await harness.PassAsync();

        Assert.Equal(2, report.Of("failed-volumes").Changed);
        Assert.Equal([volumes[0].Handle], worker.Volumes.Keys);
        Assert.Equal([volumes[0].Id], await Given.QueryAsync<long>("SELECT id FROM volumes"));
    }

    [Fact]
    public async Task Volumes_stuck_in_setup_past_the_timeout_fail_and_young_ones_are_kept()
    {
        await Given.WorkerAsync();
        var stuckCreating = await Given.VolumeAsync(VolumeState.Creating);
        var stuckInitializing = await Given.VolumeAsync(VolumeState.Initializing);
        var young = await Given.VolumeAsync(VolumeState.Creating);
        await Given.ExecuteAsync(
            "UPDATE volumes SET state_changed_at = now() - interval '1 hour' WHERE id = ANY(@ids)",
            new { ids = new[] { stuckCreating.Id, stuckInitializing.Id } });
        await using var harness = new CollectorHarness(DataSource);

        var report = await harness.RunAsync("stuck-volumes");

        Assert.Equal(2, report.Changed);
        Assert.Equal(VolumeState.Failed, (await Store.Volumes.FindAsync(stuckCreating.Id))!.State);
        Assert.Equal(VolumeState.Failed, (await Store.Volumes.FindAsync(stuckInitializing.Id))!.State);
        Assert.Equal(VolumeState.Creating, (await Store.Volumes.FindAsync(young.Id))!.State);
    }

    [Fact]
    public async Task A_volume_the_worker_does_not_have_is_confirmed_gone()
    {
        var worker = await Fleet.AddAsync("w1");
        var orphans = await Fleet.OrphansAsync(worker, 3);
        worker.Volumes.Clear();
        await using var harness = new CollectorHarness(DataSource);

        var report = await harness.PassAsync();

        Assert.Equal(3, report.Of("destroying-volumes").Changed);
        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM volumes"));
    }

    [Fact]
    public async Task A_worker_answering_500_keeps_its_volumes_destroying_for_a_retry_while_other_workers_are_reclaimed()
    {
        var broken = await Fleet.AddAsync("broken");
        var healthy = await Fleet.AddAsync("healthy");
        await Fleet.OrphansAsync(broken, 4);
        await Fleet.OrphansAsync(healthy, 4);
        broken.Mode = FakeWorker.Behaviour.Failing;
        await using var harness = new CollectorHarness(DataSource);

        var report = await harness.PassAsync();

        Assert.Empty(healthy.Volumes);
        Assert.Equal(4, broken.Volumes.Count);
        Assert.Equal(4, report.Of("destroying-volumes").Details["failed:broken"]);
        await AssertWaitingForRetryAsync("broken", 4, "HTTP 500");

        broken.Mode = FakeWorker.Behaviour.Healthy;
        await Given.ExecuteAsync("UPDATE volumes SET claim_expires_at = now() - interval '1 second'");
        await harness.PassAsync();
        Assert.Empty(broken.Volumes);
        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM volumes"));
    }

    [Fact]
    public async Task A_hanging_worker_does_not_hold_up_the_pass_or_the_other_workers()
    {
        var hanging = await Fleet.AddAsync("hanging");
        var healthy = await Fleet.AddAsync("healthy");
        await Fleet.OrphansAsync(hanging, 3);
        await Fleet.OrphansAsync(healthy, 3);
        hanging.Mode = FakeWorker.Behaviour.Hanging;
        await using var harness = new CollectorHarness(DataSource, new Dictionary<string, string?>
        {
            ["Workers:AttemptTimeout"] = "00:00:06",
            ["Workers:TotalTimeout"] = "00:00:06",
            ["Workers:Retries"] = "0",
        });

        // The pass hands each worker to its own deletion loop and returns while the hanging worker's request is open...
        var pass = Stopwatch.StartNew();
        await harness.Collector.RunPassAsync();
        Assert.True(pass.Elapsed < TimeSpan.FromSeconds(3), $"the pass took {pass.Elapsed} while a worker hangs for 6 s");
        Assert.Contains("hanging", harness.Deleter.Busy);

        // ...the healthy worker is reclaimed meanwhile...
        await Eventually.TrueAsync(async () => await Given.ScalarAsync<int>("SELECT count(*) FROM volumes WHERE worker_name = 'healthy'") == 0, "the healthy worker's rows are gone");
        Assert.Empty(healthy.Volumes);
        Assert.Contains("hanging", harness.Deleter.Busy);

        // ...a later pass does not wait for it either; its request folds into the hanging worker's loop.
        pass.Restart();
        await harness.Collector.RunPassAsync();
        Assert.True(pass.Elapsed < TimeSpan.FromSeconds(3), $"the second pass took {pass.Elapsed}");

        await Eventually.TrueAsync(() => !harness.Deleter.Busy.Contains("hanging"), "the hanging worker's deletion ends", TimeSpan.FromSeconds(30));
        await AssertWaitingForRetryAsync("hanging", 3, "timed out");
    }

    [Fact]
    public async Task An_unreachable_worker_keeps_its_volumes_destroying_and_they_are_reclaimed_when_it_returns()
    {
        var worker = await Fleet.AddAsync("flaky");
        var orphans = await Fleet.OrphansAsync(worker, 2);
        await Given.ExecuteAsync("UPDATE workers SET base_url = 'http://127.0.0.1:1/'");
        await using var harness = new CollectorHarness(DataSource);

        var report = await harness.PassAsync();

        Assert.Equal(2, report.Of("destroying-volumes").Details["failed:flaky"]);
        await AssertWaitingForRetryAsync("flaky", 2, "unreachable");

        await Store.Workers.RegisterAsync(new WorkerRegistration("flaky", worker.BaseUrl, []));
        await Given.ExecuteAsync("UPDATE volumes SET claim_expires_at = NULL");
        await harness.PassAsync();
        Assert.Empty(worker.Volumes);
        Assert.All(orphans, v => Assert.Equal(1, worker.DeleteRequests[v.Handle]));
    }

    [Fact]
    public async Task A_volume_the_worker_is_still_removing_stays_destroying_and_is_asked_about_again_without_counting_a_failure()
    {
        var worker = await Fleet.AddAsync("w1");
        var orphans = await Fleet.OrphansAsync(worker, 2);
        worker.StillRemoving[orphans[0].Handle] = 1;
        await using var harness = new CollectorHarness(DataSource, new Dictionary<string, string?> { ["Collector:PendingRecheck"] = "00:00:00.200" });

        var report = await harness.PassAsync();

        Assert.Equal(1, report.Of("destroying-volumes").Details["pending:w1"]);
        var row = (await Given.QueryAsync<(string State, int Attempts, string? Error)>(
            "SELECT state::text, delete_attempts, last_delete_error FROM volumes WHERE id = @Id", new { orphans[0].Id })).Single();
        Assert.Equal(("destroying", 0, (string?)null), row);

        await Task.Delay(300);
        await harness.PassAsync();
        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM volumes"));
        Assert.Equal(2, worker.DeleteRequests[orphans[0].Handle]);
    }

    [Fact]
    public async Task A_drain_goes_on_past_a_batch_the_worker_is_still_removing_so_the_rest_need_not_wait_for_another_pass()
    {
        var worker = await Fleet.AddAsync("w1");
        var orphans = await Fleet.OrphansAsync(worker, 6);
        foreach (var orphan in orphans)
        {
            worker.StillRemoving[orphan.Handle] = 1;
        }

        await using var harness = new CollectorHarness(DataSource, new Dictionary<string, string?>
        {
            ["Collector:DeleteBatchSize"] = "2",
            ["Collector:MaxConcurrentRequestsPerWorker"] = "1",
        });

        var report = await harness.PassAsync();

        // Every volume was sent in the one drain; each is pending (the worker removes it in the background).
        Assert.Equal(6, report.Of("destroying-volumes").Details["pending:w1"]);
        Assert.All(orphans, v => Assert.Equal(1, worker.DeleteRequests[v.Handle]));
    }

    [Theory]
    [InlineData(MisbehavingServer.Misbehaviour.ResetMidAnswer)]
    [InlineData(MisbehavingServer.Misbehaviour.UnknownCharset)]
    public async Task A_worker_that_answers_badly_gets_its_volumes_released_for_a_retry_not_held_until_the_lease(MisbehavingServer.Misbehaviour misbehaviour)
    {
        await using var resetting = new MisbehavingServer(misbehaviour).Start();
        await Store.Workers.RegisterAsync(new WorkerRegistration("resetting", resetting.BaseUrl, []));
        await Given.OrphanAsync(VolumeState.Initialized, "resetting");
        await Given.OrphanAsync(VolumeState.Initialized, "resetting");
        // One request at a time, so both handles go in one destroy batch (two concurrent drains could
        // each claim one, and a single DELETE answered 200 is gone whatever its body).
        await using var harness = new CollectorHarness(DataSource, new Dictionary<string, string?>
        {
            ["Collector:ClaimLease"] = "00:05:00",
            ["Collector:MaxConcurrentRequestsPerWorker"] = "1",
        });

        await harness.PassAsync();

        Assert.True(resetting.Connections > 0);
        var rows = await Given.QueryAsync<(string State, string? ClaimedBy, int Attempts, string Error)>(
            "SELECT state::text, claimed_by, delete_attempts, last_delete_error FROM volumes");
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r =>
        {
            Assert.Equal(("destroying", (string?)null, 1), (r.State, r.ClaimedBy, r.Attempts));
            Assert.NotEmpty(r.Error);
        });
    }

    [Fact]
    public async Task Backoff_grows_with_each_failed_attempt()
    {
        var worker = await Fleet.AddAsync("broken");
        await Fleet.OrphansAsync(worker, 1);
        worker.Mode = FakeWorker.Behaviour.Failing;
        await using var harness = new CollectorHarness(DataSource, new Dictionary<string, string?> { ["Collector:RetryBackoff"] = "00:00:10" });

        await harness.PassAsync();
        var first = await Given.ScalarAsync<double>("SELECT extract(epoch FROM claim_expires_at - now()) FROM volumes");
        await Given.ExecuteAsync("UPDATE volumes SET claim_expires_at = NULL");
        await harness.PassAsync();
        var second = await Given.ScalarAsync<double>("SELECT extract(epoch FROM claim_expires_at - now()) FROM volumes");

        Assert.InRange(first, 5, 10);
        Assert.InRange(second, 15, 20);
        Assert.Equal(2, await Given.ScalarAsync<int>("SELECT delete_attempts FROM volumes"));
    }

    [Fact]
    public async Task A_collector_without_the_workers_token_is_refused_and_deletes_nothing()
    {
        var worker = await Fleet.AddAsync("w1", secret: "a-different-secret-0123456789");
        await Fleet.OrphansAsync(worker, 2);
        await using var harness = new CollectorHarness(DataSource);

        await harness.PassAsync();

        Assert.Equal(2, worker.Volumes.Count);
        Assert.True(worker.UnauthorizedRequests > 0);
        await AssertWaitingForRetryAsync("w1", 2, "HTTP 401");
    }

    public override async Task DisposeAsync()
    {
        if (fleet is not null)
        {
            await fleet.DisposeAsync();
        }
    }

    private async Task AssertWaitingForRetryAsync(string worker, int count, string error)
    {
        var rows = await Given.QueryAsync<(string State, string? ClaimedBy, bool BackedOff, int Attempts, string Error)>(
            """
            SELECT state::text, claimed_by, claim_expires_at > now(), delete_attempts, last_delete_error
            FROM volumes WHERE worker_name = @worker
            """, new { worker });
        Assert.Equal(count, rows.Count);
        Assert.All(rows, r =>
        {
            Assert.Equal("destroying", r.State);
            Assert.Null(r.ClaimedBy);
            Assert.True(r.BackedOff);
            Assert.Equal(1, r.Attempts);
            Assert.Contains(error, r.Error, StringComparison.Ordinal);
        });
    }
}
