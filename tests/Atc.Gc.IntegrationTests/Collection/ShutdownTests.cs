using System.Diagnostics;
using Atc.Gc.IntegrationTests.Infrastructure;

namespace Atc.Gc.IntegrationTests.Collection;

/// <summary>An orchestrator stopped while it deletes on a worker shuts down promptly and gives its claims back.</summary>
public sealed class ShutdownTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task Stopping_the_orchestrator_during_a_drain_releases_its_claims_at_once()
    {
        await using var fleet = new WorkerFleet(Store, Given);
        var hanging = await fleet.AddAsync("hanging");
        await fleet.OrphansAsync(hanging, 3);
        hanging.Mode = FakeWorker.Behaviour.Hanging;
        var orchestrator = await OrchestratorInstance.StartAsync(DataSource, new Dictionary<string, string?>
        {
            ["Workers:AttemptTimeout"] = "00:00:30",
            ["Workers:TotalTimeout"] = "00:00:30",
            ["Collector:ClaimLease"] = "00:05:00",
        });
        await Eventually.TrueAsync(
            async () => await Given.ScalarAsync<int>("SELECT count(*) FROM volumes WHERE claimed_by IS NOT NULL") == 3,
            "the orchestrator's deletion loop claimed the volumes and is waiting on the worker");

        var stopping = Stopwatch.StartNew();
        await orchestrator.DisposeAsync();

        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(10), $"stopping took {stopping.Elapsed}");
        var rows = await Given.QueryAsync<(string State, string? ClaimedBy, bool Claimable)>(
            "SELECT state::text, claimed_by, claim_expires_at IS NULL OR claim_expires_at <= now() FROM volumes");
        Assert.All(rows, r => Assert.Equal(("destroying", (string?)null, true), r));
    }
}
