using Atc.Gc.Collection;
using Atc.Gc.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Atc.Gc.IntegrationTests.Telemetry;

/// <summary>The orchestrator's traces reach the workers: a delete carries the trace context of the pass that sent it.</summary>
public sealed class TracingTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task A_delete_sent_to_a_worker_carries_the_pass_trace_context()
    {
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource);
        await using var fleet = new WorkerFleet(Store, Given);
        var worker = await fleet.AddAsync("w1");
        await fleet.OrphansAsync(worker, 2);

        await orchestrator.Services.GetRequiredService<GarbageCollector>().RunPassAsync(PassRequest.Complete);

        Assert.Empty(worker.Volumes);
        Assert.NotEmpty(worker.TraceParents);
        // version-traceid-spanid-flags (W3C Trace Context), sampled; every call of the pass in one trace.
        Assert.All(worker.TraceParents, header => Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-01$", header));
        Assert.Single(worker.TraceParents.Select(header => header.Split('-')[1]).Distinct());
    }
}
