using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Atc.Gc.Hosting;
using Atc.Gc.Workers;

namespace Atc.Gc.Benchmarks.Scenarios;

/// <summary>
/// The orchestrator's resident memory (its own process, <c>atc-gc-bench orchestrator</c>) under ten
/// concurrent reports of the largest size it accepts, against its memory when idle: from one worker
/// (all but one are refused at once) and from ten workers (all are read, as streams). The peak is the
/// process's VmHWM, reset before each run through <c>/proc/&lt;pid&gt;/clear_refs</c>.
/// </summary>
public static class ReportMemoryScenario
{
    private const int Concurrent = 10;

    public static async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var maxBytes = context.Options.MaxReportBytes;
        await using var database = await context.Server.CreateAsync("bench_report_memory", cancellationToken);
        var secret = WorkerTokens.NewSecret();
        var baseUrl = new Uri($"http://127.0.0.1:{Loopback.FreePort()}/");
        var start = SelfProcess.StartInfo([
            "orchestrator", "--database", database.ConnectionString, "--listen", baseUrl.ToString(), "--secret", secret,
            "--max-report-bytes", maxBytes.ToString(CultureInfo.InvariantCulture)]);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the orchestrator");
        try
        {
            using (var probe = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(2) })
            {
                await Loopback.WaitHealthyAsync(probe, "the orchestrator", () => process.HasExited, TimeSpan.FromSeconds(60), cancellationToken);
            }

            var workers = Enumerable.Range(0, Concurrent).Select(i => $"m{i}").ToList();
            foreach (var worker in workers)
            {
                using var client = Client(baseUrl, secret, worker);
                (await client.PutAsJsonAsync(OrchestratorProtocol.WorkerPath(worker), new RegisterWorkerRequest("http://127.0.0.1:9/"), VolumeProtocol.Json, cancellationToken)).EnsureSuccessStatusCode();

                // Warm up every path a report takes, so idle memory is a working orchestrator's.
                (await client.PutAsync(OrchestratorProtocol.ReportPath(worker), new GeneratedReport(worker, 64 * 1024), cancellationToken)).EnsureSuccessStatusCode();
            }

            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            var idle = Memory(process.Id).Resident;
            context.Say($"  orchestrator idle: {idle / 1048576.0:F0} MiB resident; reports of {maxBytes / 1048576.0:F2} MiB");

            var (oneTime, onePeak, oneCodes) = await StormAsync(baseUrl, secret, [.. Enumerable.Repeat(workers[0], Concurrent)], maxBytes, process.Id, cancellationToken);
            var (tenTime, tenPeak, tenCodes) = await StormAsync(baseUrl, secret, workers, maxBytes, process.Id, cancellationToken);
            context.Say($"  one worker: {Codes(oneCodes)}, peak {onePeak / 1048576.0:F0} MiB; ten workers: {Codes(tenCodes)}, peak {tenPeak / 1048576.0:F0} MiB");

            context.Rows.Add(new BenchRow("report memory", "orchestrator idle", 1, TimeSpan.Zero, PeakBytes: idle, Note: "resident memory after every path was used once"));
            foreach (var (label, time, peak, codes) in new[]
                     {
                         ($"{Concurrent} concurrent maximum-size reports from one worker", oneTime, onePeak, oneCodes),
                         ($"{Concurrent} concurrent maximum-size reports from {Concurrent} workers", tenTime, tenPeak, tenCodes),
                     })
            {
                var ratio = peak / (double)idle;
                context.Rows.Add(new BenchRow("report memory", label, Concurrent, time, PeakBytes: peak,
                    Ratio: $"{ratio:F2}× idle", Target: "≤ 2× idle", Met: ratio <= 2,
                    Note: $"{maxBytes / 1048576.0:0.##} MiB each; answers {Codes(codes)}; peak resident memory (VmHWM) of the orchestrator's process"));
            }
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }
    }

    private static async Task<(TimeSpan Time, long Peak, IReadOnlyList<HttpStatusCode> Codes)> StormAsync(
        Uri baseUrl, string secret, IReadOnlyList<string> senders, long maxBytes, int pid, CancellationToken cancellationToken)
    {
        await File.WriteAllTextAsync($"/proc/{pid}/clear_refs", "5", cancellationToken);
        var clock = Stopwatch.StartNew();
        var codes = await Task.WhenAll(senders.Select(async worker =>
        {
            using var client = Client(baseUrl, secret, worker);
            using var response = await client.PutAsync(OrchestratorProtocol.ReportPath(worker), new GeneratedReport(worker, maxBytes), cancellationToken);
            return response.StatusCode;
        }));
        var time = clock.Elapsed;
        if (codes.Any(c => c is not (HttpStatusCode.OK or HttpStatusCode.TooManyRequests)))
        {
            throw new InvalidOperationException($"a maximum-size report was answered {Codes(codes)}");
        }

        return (time, Memory(pid).Peak, codes);
    }

    private static string Codes(IReadOnlyList<HttpStatusCode> codes) =>
        string.Join(", ", codes.GroupBy(c => (int)c).OrderBy(g => g.Key).Select(g => $"{g.Count()}× {g.Key}"));

    private static HttpClient Client(Uri baseUrl, string secret, string worker)
    {
        var client = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromMinutes(10) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", WorkerTokens.Derive(secret, worker, generation: 0)); // never revoked in a fresh database
        return client;
    }

    /// <summary>VmRSS and VmHWM of a process, in bytes.</summary>
    private static (long Resident, long Peak) Memory(int pid)
    {
        long Read(string field) => long.Parse(
            File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field, StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1],
            CultureInfo.InvariantCulture) * 1024;
        return (Read("VmRSS:"), Read("VmHWM:"));
    }

    /// <summary>A report of exactly <c>bytes</c> bytes, written as it is sent (the sender holds none of it).</summary>
    private sealed class GeneratedReport : HttpContent
    {
        private const string Head = "{\"listedAfter\":null,\"volumes\":[";
        private const string Tail = "]}";
        private readonly string worker;
        private readonly long count;
        private readonly long padding;

        public GeneratedReport(string worker, long bytes)
        {
            this.worker = worker;
            var entry = Entry(0).Length + 1;
            count = Math.Max(1, (bytes - Head.Length - Tail.Length + 1) / entry);
            padding = Math.Max(0, bytes - (Head.Length + Tail.Length + (count * entry) - 1));
            Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var text = new StringBuilder(64 * 1024);
            text.Append(' ', (int)padding).Append(Head);
            for (long i = 0; i < count; i++)
            {
                text.Append(i == 0 ? string.Empty : ",").Append(Entry(i));
                if (text.Length > 60_000)
                {
                    await stream.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()));
                    text.Clear();
                }
            }

            text.Append(Tail);
            await stream.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = padding + Head.Length + Tail.Length + (count * (Entry(0).Length + 1)) - 1;
            return true;
        }

        private string Entry(long i) => string.Create(CultureInfo.InvariantCulture, $"{{\"handle\":\"{worker}-{i:D10}\",\"ageSeconds\":1,\"sizeBytes\":4096}}");
    }
}
