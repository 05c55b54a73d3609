using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Atc.Gc.Web;
using Atc.Gc.Workers;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atc.Gc.Agent;

/// <summary>
/// The agent's side of the orchestrator link, three loops:
/// <list type="bullet">
/// <item><b>heartbeat</b>: registers (the address the agent listens on, its base resource types, the
/// database identity it knows, its disk's capacity and free space) and then heartbeats every
/// <see cref="AgentOptions.HeartbeatInterval"/> (a heartbeat re-registers, so a pruned worker comes back);</item>
/// <item><b>report</b>: every <see cref="AgentOptions.ReportInterval"/>, a full report of the volumes it
/// holds, from memory, with their sizes, the last server time received before the listing
/// (<c>listedAfter</c>) and the handles still being deleted. The orchestrator reconciles with it and
/// answers handles it does not know, which are deleted here — only when its database is the one this
/// agent knows;</item>
/// <item><b>acknowledgements</b>: shortly after the reaper removed volumes' data, their handles (only those:
/// their cost follows what changed, not how many volumes the worker holds), so destroying rows go at once.</item>
/// </list>
/// Every loop survives every failure: it records it (see <see cref="AgentLoops"/>), backs off and tries
/// again; a 429 is waited out as its Retry-After says. Without an orchestrator it does nothing.
/// </summary>
public sealed class VolumeReporter : BackgroundService
{
    public const string ClientName = "atc-gc-orchestrator";
    public const string HeartbeatLoop = "heartbeat";
    public const string ReportLoop = "report";
    public const string AcknowledgementLoop = "acknowledgements";

    /// <summary>Handles acknowledged at most, kept while the orchestrator cannot be reached; beyond, the next full report does the job.</summary>
    private const int MaxUnacknowledged = 100_000;

    private readonly IOptions<AgentOptions> options;
    private readonly VolumeStore store;
    private readonly AgentIdentity identity;
    private readonly AgentLoops loops;
    private readonly IServer server;
    private readonly IHostApplicationLifetime lifetime;
    private readonly IHttpClientFactory httpClientFactory;
    private readonly ILogger<VolumeReporter> logger;
    private readonly SemaphoreSlim reportRequested = new(0, 1);
    private readonly SemaphoreSlim goneSignal = new(0, 1);
    private readonly Lock sync = new();
    private readonly List<string> unacknowledged = [];
    private bool registered;
    private DateTimeOffset? serverTime;

    internal VolumeReporter(
        IOptions<AgentOptions> options,
        VolumeStore store,
        AgentIdentity identity,
        AgentLoops loops,
        IServer server,
        IHostApplicationLifetime lifetime,
        IHttpClientFactory httpClientFactory,
        ILogger<VolumeReporter> logger)
    {
        this.options = options;
        this.store = store;
        this.identity = identity;
        this.loops = loops;
        this.server = server;
        this.lifetime = lifetime;
        this.httpClientFactory = httpClientFactory;
        this.logger = logger;
    }

    /// <summary>Asks for a full report soon; requests fold into one.</summary>
    public void RequestReport() => Signal(reportRequested);

    public override void Dispose()
    {
        reportRequested.Dispose();
        goneSignal.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (settings.Orchestrator is null)
        {
            foreach (var loop in (string[])[HeartbeatLoop, ReportLoop, AcknowledgementLoop])
            {
                loops[loop].Ended("idle");
            }

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

        store.Reaper.Removed += () => Signal(goneSignal);
        await Task.WhenAll(
            RunLoopAsync(HeartbeatLoop, settings.HeartbeatInterval, () => settings.HeartbeatInterval, ct => RegisterAsync(settings, ct), stoppingToken),
            RunLoopAsync(ReportLoop, settings.ReportInterval, () => settings.ReportInterval, ct => ReportAsync(settings, ct), stoppingToken, reportRequested, waitFirst: true),
            RunLoopAsync(AcknowledgementLoop, settings.ReportDebounce, () => TimeSpan.FromSeconds(5), ct => AcknowledgeAsync(settings, ct), stoppingToken, goneSignal, settings.ReportDebounce));
    }

    /// <summary>Registers (or heartbeats) once.</summary>
    public async Task RegisterAsync(AgentOptions settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var advertised = settings.AdvertiseUrl ?? ServerAddresses.First(server);
        WorkerDiskDto? disk = null;
        try
        {
            var figures = store.Disk();
            disk = new WorkerDiskDto(figures.CapacityBytes, figures.FreeBytes, figures.VolumesBytes);
        }
        catch (IOException ex)
        {
            logger.LogDebug("Cannot read the disk's figures: {Message}", ex.Message);
        }

        using var request = Request(HttpMethod.Put, OrchestratorProtocol.WorkerPath(settings.Name!), settings);
        request.Content = JsonContent.Create(
            new RegisterWorkerRequest(advertised.ToString(), settings.ParsedResourceTypes(), Heartbeat: registered, InstallationId: identity.Installation, Disk: disk),
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

    /// <summary>Sends one full report and deletes what the orchestrator does not know.</summary>
    public async Task<VolumeReportResponse?> ReportAsync(AgentOptions settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);

        // The server time heard before the listing starts: every volume not in the listing was either
        // gone already or changed after this moment, and the orchestrator judges only the former.
        var listedAfter = LastServerTime;
        var deleting = store.Deleting();
        store.Reconcile();
        var now = DateTimeOffset.UtcNow;
        var volumes = store.List()
            .Select(v => new ReportedVolumeDto(v.Handle, Math.Max(0, (now - v.CreatedAt).TotalSeconds), v.SizeBytes))
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

            var results = await store.DeleteAsync(answer.Destroy, settings.DeleteBudget, cancellationToken);
            logger.LogInformation(
                "Deleted {Deleted} volumes the orchestrator does not know ({Pending} still being removed, {Failed} not deleted)",
                results.Count(r => r.Outcome is DestroyOutcome.Deleted or DestroyOutcome.NotFound),
                results.Count(r => r.Outcome == DestroyOutcome.Pending),
                results.Count(r => r.Outcome == DestroyOutcome.Failed));
        }

        return answer;
    }

    /// <summary>Sends the handles whose data the reaper removed (in batches); kept for the next round when that fails.</summary>
    private async Task AcknowledgeAsync(AgentOptions settings, CancellationToken cancellationToken)
    {
        List<string> batch;
        lock (sync)
        {
            unacknowledged.AddRange(store.Reaper.TakeGone());
            if (unacknowledged.Count > MaxUnacknowledged)
            {
                unacknowledged.RemoveRange(0, unacknowledged.Count - MaxUnacknowledged);
                RequestReport();
            }

            batch = [.. unacknowledged.Take(OrchestratorProtocol.MaxGonePerRequest)];
        }

        while (batch.Count > 0)
        {
            using var request = Request(HttpMethod.Post, OrchestratorProtocol.GonePath(settings.Name!), settings);
            request.Content = JsonContent.Create(new VolumesGoneRequest(batch), options: VolumeProtocol.Json);
            using var response = await httpClientFactory.CreateClient(ClientName).SendAsync(request, cancellationToken);
            await EnsureSuccessAsync(response, "acknowledging removed volumes", cancellationToken);
            var answer = await response.Content.ReadFromJsonAsync<VolumesGoneResponse>(VolumeProtocol.Json, cancellationToken);
            Heard(answer?.ServerTime);
            lock (sync)
            {
                unacknowledged.RemoveRange(0, batch.Count);
                batch = [.. unacknowledged.Take(OrchestratorProtocol.MaxGonePerRequest)];
            }
        }
    }

    /// <summary>
    /// One loop: a round, then a wait of <paramref name="interval"/> (cut short by <paramref name="wake"/>,
    /// then <paramref name="debounce"/> to gather more); after a failure a growing wait, up to four intervals,
    /// or what a 429 asked for. Nothing ends it but the agent stopping.
    /// </summary>
    private async Task RunLoopAsync(
        string name, TimeSpan interval, Func<TimeSpan> idle, Func<CancellationToken, Task> round, CancellationToken stoppingToken,
        SemaphoreSlim? wake = null, TimeSpan debounce = default, bool waitFirst = false)
    {
        var state = loops[name];
        if (waitFirst && !await WaitAsync(interval, wake, debounce, stoppingToken))
        {
            state.Ended("stopped");
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                await round(stoppingToken);
                state.Succeeded();
                wait = idle();
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                state.Failed(ex);
                store.Metrics.LoopFailed(name);
                wait = ex is TooManyRequestsException busy
                    ? busy.RetryAfter
                    : TimeSpan.FromTicks(Math.Min(interval.Ticks * 4, interval.Ticks * (1L << Math.Min(state.ConsecutiveFailures - 1, 10))));
                logger.LogWarning("{Loop} to {Orchestrator} failed ({Failures} in a row; next in {Wait}): {Message}",
                    name, options.Value.Orchestrator, state.ConsecutiveFailures, wait, ex.Message);
            }

            if (!await WaitAsync(wait, wake, debounce, stoppingToken))
            {
                break;
            }
        }

        state.Ended("stopped");
    }

    /// <summary>Waits <paramref name="wait"/>, or until <paramref name="wake"/> and then <paramref name="debounce"/>; false when the agent stops.</summary>
    private static async Task<bool> WaitAsync(TimeSpan wait, SemaphoreSlim? wake, TimeSpan debounce, CancellationToken stoppingToken)
    {
        try
        {
            if (wake is null)
            {
                await Task.Delay(wait, stoppingToken);
            }
            else if (await wake.WaitAsync(wait, stoppingToken) && debounce > TimeSpan.Zero)
            {
                await Task.Delay(debounce, stoppingToken);
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
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

    private static void Signal(SemaphoreSlim semaphore)
    {
        try
        {
            semaphore.Release();
        }
        catch (SemaphoreFullException)
        {
            // already signalled
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
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            var after = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(5);
            throw new TooManyRequestsException($"{what} answered HTTP 429: the orchestrator is busy with this worker's previous request", after);
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{what} answered {await FailedAnswer.DescribeAsync(response, cancellationToken)}");
        }
    }

    /// <summary>The orchestrator asked to wait before the next request.</summary>
    private sealed class TooManyRequestsException(string message, TimeSpan retryAfter) : Exception(message)
    {
        public TimeSpan RetryAfter { get; } = retryAfter;
    }
}
