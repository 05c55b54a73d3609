using System.Net;
using System.Net.Http.Json;
using System.Text;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Workers;

namespace Atc.Gc.IntegrationTests.Server;

/// <summary>At most one volume report per worker is in flight on the orchestrator: another is refused at once with 429 and Retry-After.</summary>
public sealed class ReportGateTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task A_second_report_from_a_worker_while_its_first_is_in_flight_gets_429_and_other_workers_are_not_held_up()
    {
        await using var orchestrator = await OrchestratorInstance.StartAsync(DataSource);
        await RegisterAsync(orchestrator, "w1");
        await RegisterAsync(orchestrator, "w2");
        using var first = orchestrator.ClientFor("w1");
        using var second = orchestrator.ClientFor("w1");
        using var other = orchestrator.ClientFor("w2");

        // The first report's body is held half-sent: it is in flight until released.
        var body = new HeldBody("{\"volumes\": [{\"handle\": \"a\", \"ageSeconds\": 1}", ", {\"handle\": \"b\", \"ageSeconds\": 1}]}");
        var inFlight = first.PutAsync(OrchestratorProtocol.ReportPath("w1"), body);
        await body.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(200);

        var refused = await second.PutAsJsonAsync(OrchestratorProtocol.ReportPath("w1"), new VolumeReportRequest([]), VolumeProtocol.Json);
        var elsewhere = await other.PutAsJsonAsync(OrchestratorProtocol.ReportPath("w2"), new VolumeReportRequest([]), VolumeProtocol.Json);
        body.Release();
        var done = await inFlight.WaitAsync(TimeSpan.FromSeconds(10));
        var afterwards = await second.PutAsJsonAsync(OrchestratorProtocol.ReportPath("w1"), new VolumeReportRequest([]), VolumeProtocol.Json);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, elsewhere.StatusCode);
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.Equal(HttpStatusCode.OK, afterwards.StatusCode);
    }

    private static async Task RegisterAsync(OrchestratorInstance orchestrator, string worker)
    {
        using var client = orchestrator.ClientFor(worker);
        var response = await client.PutAsJsonAsync(OrchestratorProtocol.WorkerPath(worker), new RegisterWorkerRequest("http://127.0.0.1:7788/"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>A JSON body sent in two parts: the second only after <see cref="Release"/>.</summary>
    private sealed class HeldBody(string head, string tail) : HttpContent
    {
        private readonly TaskCompletionSource release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => release.TrySetResult();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes(head));
            await stream.FlushAsync();
            Started.TrySetResult();
            await release.Task;
            await stream.WriteAsync(Encoding.UTF8.GetBytes(tail));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }
}
