using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Atc.Gc.Workers;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Atc.Gc.Benchmarks.Scenarios;

/// <summary>
/// What a report costs the orchestrator and the database at a small and a large worker, with ten
/// changes: the acknowledgement of ten deletions (what the agent sends after its reaper removed data),
/// whose cost should follow the changes, not the worker's size; and, beside it, the periodic full report.
/// Over loopback HTTP against the orchestrator in this process; sizes alternate between runs.
/// </summary>
public static class ReportCostScenario
{
    private const int Changes = 10;

    public static async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = context.Options;
        await using var database = await context.Server.CreateAsync("bench_reports", cancellationToken);
        var dataSource = database.DataSource;
        var secret = WorkerTokens.NewSecret();
        await using var orchestrator = await BenchOrchestrator.StartAsync(dataSource, secret, new Dictionary<string, string?>
        {
            // Only what the reports do is measured: no collection passes meanwhile.
            ["Collector:ListenForChanges"] = "false",
            ["Collector:Interval"] = "01:00:00",
        });
        var reports = orchestrator.Services.GetRequiredService<VolumeReportService>();
        var sizes = options.ReportSizes;
        var clients = new Dictionary<int, HttpClient>();
        try
        {
            foreach (var size in sizes)
            {
                var worker = Worker(size);
                var client = new HttpClient { BaseAddress = orchestrator.BaseUrl, Timeout = TimeSpan.FromMinutes(5) };
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", WorkerTokens.Derive(secret, worker, generation: 0)); // never revoked in a fresh database
                clients[size] = client;
                (await client.PutAsJsonAsync(OrchestratorProtocol.WorkerPath(worker), new RegisterWorkerRequest("http://127.0.0.1:9/"), VolumeProtocol.Json, cancellationToken)).EnsureSuccessStatusCode();
                await AddVolumesAsync(dataSource, worker, "v", size, cancellationToken);
            }

            await ExecuteAsync(dataSource, "VACUUM ANALYZE volumes", cancellationToken);
            context.Say($"  workers with {string.Join(" and ", sizes.Select(s => $"{s:N0}"))} volumes");

            var acknowledged = sizes.ToDictionary(s => s, _ => new List<TimeSpan>());
            var databaseOnly = sizes.ToDictionary(s => s, _ => new List<TimeSpan>());
            var full = sizes.ToDictionary(s => s, _ => new List<TimeSpan>());
            var runs = Math.Max(5, options.Repeats * 4);
            for (var run = 0; run < runs; run++)
            {
                foreach (var size in run % 2 == 0 ? sizes : sizes.Reverse())
                {
                    var worker = Worker(size);

                    // Ten volumes deleted on the worker: destroying here, acknowledged over HTTP.
                    var changed = await DestroyAsync(dataSource, worker, $"a{run}", cancellationToken);
                    var clock = Stopwatch.StartNew();
                    var response = await clients[size].PostAsJsonAsync(OrchestratorProtocol.GonePath(worker), new VolumesGoneRequest(changed), VolumeProtocol.Json, cancellationToken);
                    var answer = await response.Content.ReadFromJsonAsync<VolumesGoneResponse>(VolumeProtocol.Json, cancellationToken);
                    acknowledged[size].Add(clock.Elapsed);
                    Check(answer?.ConfirmedGone, worker);

                    // The same, the database alone.
                    changed = await DestroyAsync(dataSource, worker, $"d{run}", cancellationToken);
                    clock.Restart();
                    var confirmed = await reports.ConfirmGoneAsync(worker, changed, cancellationToken);
                    databaseOnly[size].Add(clock.Elapsed);
                    Check(confirmed?.ConfirmedGone, worker);
                }
            }

            for (var run = 0; run < Math.Max(3, options.Repeats); run++)
            {
                foreach (var size in run % 2 == 0 ? sizes : sizes.Reverse())
                {
                    var worker = Worker(size);
                    var handles = await HandlesAsync(dataSource, worker, cancellationToken);
                    var listedAfter = await ScalarAsync<DateTime>(dataSource, "SELECT now()", cancellationToken);
                    var report = new VolumeReportRequest([.. handles.Select(h => new ReportedVolumeDto(h, 3600, 4096))], new DateTimeOffset(listedAfter, TimeSpan.Zero));
                    var clock = Stopwatch.StartNew();
                    (await clients[size].PutAsJsonAsync(OrchestratorProtocol.ReportPath(worker), report, VolumeProtocol.Json, cancellationToken)).EnsureSuccessStatusCode();
                    full[size].Add(clock.Elapsed);
                }
            }

            var small = sizes[0];
            foreach (var size in sizes)
            {
                var ratio = Stats.MedianRatio(acknowledged[size], acknowledged[small]);
                context.Rows.Add(new BenchRow("report", $"acknowledgement of {Changes} deletions, {size:N0} volumes on the worker", Changes, Stats.Median(acknowledged[size]),
                    Ratio: size == small ? string.Empty : $"{ratio:F2}× at {small:N0} volumes",
                    Target: size == small ? string.Empty : "≤ 1.5×", Met: size == small ? null : ratio <= 1.5,
                    Note: $"POST /volumes/gone over loopback, orchestrator and database; the database alone {Stats.Median(databaseOnly[size]).TotalMilliseconds:F1} ms; median of {runs}, sizes alternating"));
            }

            foreach (var size in sizes)
            {
                context.Rows.Add(new BenchRow("report", $"full report, {size:N0} volumes on the worker", size, Stats.Median(full[size]),
                    Ratio: size == small ? string.Empty : $"{Stats.MedianRatio(full[size], full[small]):F0}× at {small:N0} volumes",
                    Note: $"PUT /volumes/report (every volume, streamed into a COPY): periodic reconciliation, follows the worker's size; median of {Math.Max(3, options.Repeats)}"));
            }
        }
        finally
        {
            foreach (var client in clients.Values)
            {
                client.Dispose();
            }
        }
    }

    private static string Worker(int size) => $"w{size}";

    private static void Check(int? confirmed, string worker)
    {
        if (confirmed != Changes)
        {
            throw new InvalidOperationException($"{worker}: {confirmed} of {Changes} destroying volumes were confirmed gone");
        }
    }

    /// <summary>Marks ten of the worker's volumes destroying and adds ten new ones, so its size stays; the handles marked.</summary>
    private static async Task<IReadOnlyList<string>> DestroyAsync(NpgsqlDataSource dataSource, string worker, string tag, CancellationToken cancellationToken)
    {
        await AddVolumesAsync(dataSource, worker, tag, Changes, cancellationToken);
        await using var command = dataSource.CreateCommand(
            """
            UPDATE volumes SET state = 'destroying', state_changed_at = now()
            WHERE id IN (SELECT id FROM volumes WHERE worker_name = $1 AND state = 'initialized' ORDER BY id LIMIT 10)
            RETURNING handle
            """);
        command.Parameters.AddWithValue(worker);
        var handles = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            handles.Add(reader.GetString(0));
        }

        return handles;
    }

    private static async Task<IReadOnlyList<string>> HandlesAsync(NpgsqlDataSource dataSource, string worker, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT handle FROM volumes WHERE worker_name = $1");
        command.Parameters.AddWithValue(worker);
        var handles = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            handles.Add(reader.GetString(0));
        }

        return handles;
    }

    private static async Task AddVolumesAsync(NpgsqlDataSource dataSource, string worker, string tag, int count, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var writer = await connection.BeginTextImportAsync("COPY volumes (handle, worker_name, state) FROM STDIN", cancellationToken);
        for (var i = 0; i < count; i++)
        {
            await writer.WriteAsync(string.Create(CultureInfo.InvariantCulture, $"{worker}-{tag}-{i}\t{worker}\tinitialized\n"));
        }
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlDataSource dataSource, string sql, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
