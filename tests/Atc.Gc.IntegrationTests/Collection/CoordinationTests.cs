using Atc.Gc.Collection;
using Atc.Gc.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Atc.Gc.IntegrationTests.Collection;

/// <summary>Several collectors on one database share the collectors; an operator can pause them all.</summary>
public sealed class CoordinationTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task A_collector_another_node_ran_within_the_interval_is_skipped_and_a_one_off_pass_runs_everything()
    {
        await using var first = new CollectorHarness(DataSource);
        await using var second = new CollectorHarness(DataSource);

        var ran = await first.Collector.RunPassAsync(new PassRequest(Trigger: PassTrigger.Interval));
        var skipped = await second.Collector.RunPassAsync(new PassRequest(Trigger: PassTrigger.Interval));
        var oneOff = await second.Collector.RunPassAsync(PassRequest.Complete);

        Assert.All(ran.Collectors, c => Assert.Null(c.Skipped));
        Assert.All(skipped.Collectors, c => Assert.StartsWith($"ran on {first.Collector.CollectorId}", c.Skipped, StringComparison.Ordinal));
        Assert.All(oneOff.Collectors, c => Assert.Null(c.Skipped));
    }

    [Fact]
    public async Task A_signal_is_answered_once_across_nodes_but_a_newer_signal_runs_again()
    {
        // The whole wall clock for collection: the cluster's budget never holds the newer signal back.
        var unbounded = new Dictionary<string, string?> { ["Collector:MaxShareOfTime"] = "1" };
        await using var first = new CollectorHarness(DataSource, unbounded);
        await using var second = new CollectorHarness(DataSource, unbounded);
        var signalled = TimeProvider.System.GetTimestamp();

        await first.Collector.RunPassAsync(new PassRequest(Trigger: PassTrigger.Signal, RequestedAt: signalled));
        var answered = await second.Collector.RunPassAsync(new PassRequest(Trigger: PassTrigger.Signal, RequestedAt: signalled));
        var newer = await second.Collector.RunPassAsync(new PassRequest(Trigger: PassTrigger.Signal, RequestedAt: TimeProvider.System.GetTimestamp()));

        Assert.All(answered.Collectors, c => Assert.NotNull(c.Skipped));
        Assert.All(newer.Collectors, c => Assert.Null(c.Skipped));
    }

    [Fact]
    public async Task A_collector_after_one_that_changed_rows_in_this_pass_runs_even_if_another_node_ran_it_since_the_signal()
    {
        await Given.WorkerAsync("w1");
        await using var other = new CollectorHarness(DataSource);
        await using var here = new CollectorHarness(DataSource);
        var signalled = TimeProvider.System.GetTimestamp();
        // Another node answered the signal before there was anything to collect...
        await other.Collector.RunPassAsync(new PassRequest(Trigger: PassTrigger.Signal, RequestedAt: signalled, Only: ["orphaned-volumes", "destroying-volumes"]));
        // ...then an orphan appears and this node's orphaned-volumes marks it (as if it had started before the other node's run).
        await Given.OrphanAsync(Lifecycle.VolumeState.Initialized, "w1");
        await Given.ExecuteAsync("UPDATE collector_runs SET last_started_at = now() - interval '1 hour' WHERE collector = 'orphaned-volumes'");

        var report = await here.Collector.RunPassAsync(new PassRequest(Trigger: PassTrigger.Signal, RequestedAt: signalled, Only: ["orphaned-volumes", "destroying-volumes"]));

        Assert.Equal(1, report.Of("orphaned-volumes").Changed);
        Assert.Null(report.Of("destroying-volumes").Skipped);
    }

    [Fact]
    public async Task Nodes_take_turns_to_pass_and_together_spend_at_most_the_clusters_share_of_time()
    {
        var budget = new ClusterPassBudget(DataSource);

        var first = await budget.TryStartAsync("a", TimeSpan.FromMinutes(1), CancellationToken.None);
        var whileBusy = await budget.TryStartAsync("b", TimeSpan.FromMinutes(1), CancellationToken.None);
        // a's pass took 2 s: at 2 % that is 100 s of wall clock, less the 1 s burst (50 s) an idle cluster has.
        await budget.FinishAsync("a", TimeSpan.FromSeconds(2), 0.02, CancellationToken.None);
        var inDebt = await budget.TryStartAsync("b", TimeSpan.FromMinutes(1), CancellationToken.None);
        var againHere = await budget.TryStartAsync("a", TimeSpan.FromMinutes(1), CancellationToken.None);

        Assert.True(first.Started);
        Assert.False(whileBusy.Started);
        Assert.InRange(whileBusy.Wait.TotalSeconds, 55, 60);
        Assert.False(inDebt.Started);
        Assert.InRange(inDebt.Wait.TotalSeconds, 45, 50);
        Assert.False(againHere.Started);
    }

    [Fact]
    public async Task A_signalled_pass_waits_for_the_clusters_turn_and_then_runs()
    {
        await Given.WorkerAsync("w1");
        var orphan = await Given.OrphanAsync(Lifecycle.VolumeState.Initialized, "w1");
        // Another node holds the turn for two more seconds (and then is gone: it never gives it back).
        await Given.ExecuteAsync(
            "INSERT INTO collector_budget (one, busy_until, busy_node, free_at) VALUES (true, now() + interval '2 seconds', 'elsewhere', '-infinity')");
        await using var harness = new CollectorHarness(
            DataSource, new Dictionary<string, string?> { ["Collector:Interval"] = "00:10:00" }, services => services.AddAtcGcCollectorService());
        var service = harness.Get<IEnumerable<IHostedService>>().OfType<CollectorService>().Single();

        await service.StartAsync(CancellationToken.None);
        try
        {
            await Task.Delay(500);
            Assert.Equal("initialized", await Given.ScalarAsync<string>("SELECT state::text FROM volumes WHERE id = @Id", new { orphan.Id }));

            await Eventually.TrueAsync(
                async () => await Given.ScalarAsync<string>("SELECT state::text FROM volumes WHERE id = @Id", new { orphan.Id }) == "destroying",
                "the orphan is marked once the turn is free", TimeSpan.FromSeconds(10));
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_collector_running_on_another_node_is_left_to_it()
    {
        await using var first = new CollectorHarness(DataSource);
        await using var second = new CollectorHarness(DataSource);
        var turn = (await first.Get<CollectorCoordinator>().TryTakeAsync(
            "builds", "elsewhere", PassTrigger.Interval, TimeSpan.FromSeconds(30), TimeSpan.Zero, mustRun: false, CancellationToken.None)).Turn;

        await using (turn)
        {
            var report = await second.Collector.RunPassAsync(new PassRequest(Trigger: PassTrigger.Interval, Only: ["builds"]));

            Assert.Equal("running on another node", report.Of("builds").Skipped);
        }
    }

    [Fact]
    public async Task Paused_collection_runs_nothing_anywhere_says_so_in_health_and_resumes()
    {
        await Given.WorkerAsync("w1");
        await Given.OrphanAsync(Lifecycle.VolumeState.Initialized, "w1");
        await using var harness = new CollectorHarness(DataSource);
        var coordinator = harness.Get<CollectorCoordinator>();

        await coordinator.PauseAsync("operator@host", "upgrading the workers", CancellationToken.None);
        var paused = await harness.Collector.RunPassAsync();
        var health = await new CollectorHealthCheck(harness.Get<CollectorHealth>(), harness.Get<Microsoft.Extensions.Options.IOptions<CollectorOptions>>())
            .CheckHealthAsync(new HealthCheckContext());

        Assert.Equal("operator@host", paused.Paused!.PausedBy);
        Assert.Empty(paused.Collectors);
        Assert.Equal("initialized", await Given.ScalarAsync<string>("SELECT state::text FROM volumes"));
        Assert.Equal(HealthStatus.Degraded, health.Status);
        Assert.Contains("upgrading the workers", health.Description, StringComparison.Ordinal);

        Assert.True(await coordinator.ResumeAsync(CancellationToken.None));
        var resumed = await harness.Collector.RunPassAsync();
        Assert.Null(resumed.Paused);
        Assert.Equal("destroying", await Given.ScalarAsync<string>("SELECT state::text FROM volumes"));
    }

    [Fact]
    public async Task Gc_pause_status_and_resume_from_the_command_line()
    {
        var pause = await AtcGcAsync("gc", "pause", "--reason", "maintenance");
        var status = await AtcGcAsync("gc", "status");
        var once = await AtcGcAsync(["collect", "--once"], new Dictionary<string, string?> { ["ATC_GC_WORKER_SECRET"] = CollectorHarness.Secret });
        var resume = await AtcGcAsync("gc", "resume");

        Assert.Equal(0, pause.ExitCode);
        Assert.Contains("collection is PAUSED by", status.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("maintenance", status.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(1, once.ExitCode);
        Assert.Contains("collection is paused", once.StandardError, StringComparison.Ordinal);
        Assert.Equal("collection resumed", resume.StandardOutput.Trim());
    }

    private Task<(int ExitCode, string StandardOutput, string StandardError)> AtcGcAsync(params string[] arguments) => AtcGcAsync(arguments, null);

    private Task<(int ExitCode, string StandardOutput, string StandardError)> AtcGcAsync(string[] arguments, Dictionary<string, string?>? environment) =>
        AtcGcProcess.RunAsync([.. arguments, "--database", Fixture.ConnectionString], environment);
}
