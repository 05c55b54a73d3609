using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Threading.Channels;
using Atc.Gc.Web;
using Atc.Gc.Workers;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atc.Gc.Agent;

/// <summary>
/// The agent's side of the orchestrator link: registers (with the address the agent listens on, its
/// base resource types and the database identity it knows), heartbeats every
/// <see cref="AgentOptions.HeartbeatInterval"/> (a heartbeat re-registers, so a pruned worker comes
/// back), and reports the volumes it holds every <see cref="AgentOptions.ReportInterval"/> and shortly
/// after it deletes something. A report carries the last server time received before its listing
/// was taken (<c>listedAfter</c>), so the orchestrator never judges a volume made after the listing.
/// Handles the orchestrator answers it does not know are deleted here — only when the orchestrator's
/// database is the one this agent knows. Every loop survives every failure: it logs, backs off and
/// tries again. Without an orchestrator it does nothing.
/// </summary>
public sealed class VolumeReporter(
    IOptions<AgentOptions> options,
    VolumeStore store,
    AgentIdentity identity,
    IServer server,
    IHostApplicationLifetime lifetime,
    IHttpClientFactory httpClientFactory,
    ILogger<VolumeReporter> logger) : BackgroundService
{
    public const string ClientName = "atc-gc-orchestrator";

    private readonly Channel<bool> reportRequests = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    private readonly Lock sync = new();
    private bool registered;
    private DateTimeOffset? serverTime;

    /// <summary>Asks for a report soon (after a deletion); requests fold into one.</summary>
    public void RequestReport() => reportRequests.Writer.TryWrite(true);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (settings.Orchestrator is null)
        {
            logger.LogInformation("No orchestrator configured: the agent runs standalone");
            return;
        }

        // Register only once the server listens, so the address sent is the one it bound (not port 0).
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            try
            {
                await started.Task;
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        await Task.WhenAll(HeartbeatLoopAsync(settings, stoppingToken), ReportLoopAsync(settings, stoppingToken));
    }

    private async Task HeartbeatLoopAsync(AgentOptions settings, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RegisterAsync(settings, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Whatever went wrong (a reset connection, a bad answer), the loop goes on.
                logger.LogWarning("Heartbeat to {Orchestrator} failed: {Message}", settings.Orchestrator, ex.Message);
            }

            await DelayAsync(settings.HeartbeatInterval, stoppingToken);
        }
    }

    private async Task ReportLoopAsync(AgentOptions settings, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            using (var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
            {
                wait.CancelAfter(settings.ReportInterval);
                try
                {
                    await reportRequests.Reader.ReadAsync(wait.Token);
                    await DelayAsync(settings.ReportDebounce, stoppingToken);
                    reportRequests.Reader.TryRead(out _);
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                    // the interval passed
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            try
            {
                await ReportAsync(settings, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning("Volume report to {Orchestrator} failed: {Message}", settings.Orchestrator, ex.Message);
            }
        }
    }

    private async Task RegisterAsync(AgentOptions settings, CancellationToken cancellationToken)
    {
        var advertised = settings.AdvertiseUrl ?? ServerAddresses.First(server);
        using var request = Request(HttpMethod.Put, OrchestratorProtocol.WorkerPath(settings.Name!), settings);
        request.Content = JsonContent.Create(
            new RegisterWorkerRequest(advertised.ToString(), settings.ParsedResourceTypes(), Heartbeat: registered, InstallationId: identity.Installation),
            options: VolumeProtocol.Json);
        using var response = await httpClientFactory.CreateClient(ClientName).SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, "registering", cancellationToken);
        var worker = await response.Content.ReadFromJsonAsync<WorkerDto>(VolumeProtocol.Json, cancellationToken)
            ?? throw new InvalidOperationException("registering answered no worker");
        Heard(worker.ServerTime);
        if (worker.Trusted && worker.InstallationId is { } installation)
        {
            identity.Record(installation);
        }
        else if (worker.Hold is not null)
        {
            logger.LogWarning("The orchestrator holds this worker: {Hold}", worker.Hold);
        }

        registered = true;
    }

    /// <summary>Sends one report and deletes what the orchestrator does not know.</summary>
    public async Task<VolumeReportResponse?> ReportAsync(AgentOptions settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);

        // The server time heard before the listing starts: every volume not in the listing was either
        // gone already or changed after this moment, and the orchestrator judges only the former.
        var listedAfter = LastServerTime;
        var deleting = store.Deleting();
        var now = DateTimeOffset.UtcNow;
        var volumes = store.List(withSizes: false)
            .Select(v => new ReportedVolumeDto(v.Handle, Math.Max(0, (now - v.CreatedAt).TotalSeconds)))
            .ToList();
        using var request = Request(HttpMethod.Put, OrchestratorProtocol.ReportPath(settings.Name!), settings);
        request.Content = JsonContent.Create(new VolumeReportRequest(volumes, listedAfter, [.. deleting.Union(store.Deleting())]), options: VolumeProtocol.Json);
        using var response = await httpClientFactory.CreateClient(ClientName).SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, "reporting volumes", cancellationToken);
        var answer = await response.Content.ReadFromJsonAsync<VolumeReportResponse>(VolumeProtocol.Json, cancellationToken);
        Heard(answer?.ServerTime);
        if (answer is { Destroy.Count: > 0 })
        {
            if (!identity.Matches(answer.InstallationId))
            {
                logger.LogWarning(
                    "The orchestrator asked to delete {Count} volumes, but its database ({Orchestrator}) is not the one this agent registered with ({Known}): nothing deleted",
                    answer.Destroy.Count, answer.InstallationId, identity.Installation);
                return answer;
            }

            var deleted = answer.Destroy.Count(store.Delete);
            logger.LogInformation("Deleted {Deleted} volumes the orchestrator does not know", deleted);
            RequestReport();
        }

        return answer;
    }

    private DateTimeOffset? LastServerTime
    {
        get
        {
            lock (sync)
            {
                return serverTime;
            }
        }
    }

    private void Heard(DateTimeOffset? time)
    {
        if (time is null)
        {
            return;
        }

        lock (sync)
        {
            if (serverTime is null || time > serverTime)
            {
                serverTime = time;
            }
        }
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, AgentOptions settings)
    {
        var request = new HttpRequestMessage(method, new Uri(settings.Orchestrator!, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", settings.Token);
        return request;
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new InvalidOperationException($"{what} answered HTTP {(int)response.StatusCode}: {(body.Length > 300 ? body[..300] : body)}");
        }
    }

    private static Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken) =>
        Task.Delay(delay, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
}
