using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Atc.Gc.Model;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Atc.Gc.Workers;

/// <summary>
/// Calls worker agents over HTTP through the named client <see cref="ClientName"/>, whose resilience
/// pipeline (timeouts, retries with backoff, a circuit breaker) is kept per worker authority. One
/// handle goes as <c>DELETE /volumes/{handle}</c>, several as one <c>POST /volumes/destroy</c>; a
/// create is <c>POST /volumes</c> (retrying it is safe: the handle is unique, a repeat answers 409).
/// Requests carry the worker's token at the endpoint's generation.
/// </summary>
public sealed class HttpWorkerVolumeClient(IHttpClientFactory httpClientFactory, IOptions<WorkerClientOptions> options) : IWorkerVolumeClient
{
    public const string ClientName = "atc-gc-workers";

    public async Task<WorkerCreation> CreateAsync(WorkerEndpoint worker, CreateVolumeRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentNullException.ThrowIfNull(request);
        try
        {
            using var message = Authorized(worker, new HttpRequestMessage(HttpMethod.Post, new Uri(worker.BaseUrl, VolumeProtocol.VolumesPath))
            {
                Content = JsonContent.Create(request, options: VolumeProtocol.Json),
            });
            using var response = await httpClientFactory.CreateClient(ClientName).SendAsync(message, cancellationToken);
            return response.StatusCode switch
            {
                HttpStatusCode.Created => new WorkerCreation(
                    WorkerCreateOutcome.Created, await response.Content.ReadFromJsonAsync<VolumeDto>(VolumeProtocol.Json, cancellationToken)),
                HttpStatusCode.Conflict => new WorkerCreation(WorkerCreateOutcome.AlreadyExists, Error: await FailureAsync(response, cancellationToken)),
                HttpStatusCode.NotFound when request.Strategy?.Parent is not null =>
                    new WorkerCreation(WorkerCreateOutcome.ParentNotFound, Error: await FailureAsync(response, cancellationToken)),
                _ => new WorkerCreation(WorkerCreateOutcome.Refused, Error: await FailureAsync(response, cancellationToken)),
            };
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return new WorkerCreation(WorkerCreateOutcome.Unreachable, Error: Describe(ex));
        }
    }

    public async Task<WorkerLookup> FindAsync(WorkerEndpoint worker, string handle, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        try
        {
            using var message = Authorized(worker, new HttpRequestMessage(
                HttpMethod.Get, new Uri(worker.BaseUrl, $"{VolumeProtocol.VolumesPath}/{Uri.EscapeDataString(handle)}")));
            using var response = await httpClientFactory.CreateClient(ClientName).SendAsync(message, cancellationToken);
            return response.StatusCode switch
            {
                HttpStatusCode.OK => new WorkerLookup(true, await response.Content.ReadFromJsonAsync<VolumeDto>(VolumeProtocol.Json, cancellationToken)),
                HttpStatusCode.NotFound => new WorkerLookup(true, null),
                _ => new WorkerLookup(false, null, await FailureAsync(response, cancellationToken)),
            };
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return new WorkerLookup(false, null, Describe(ex));
        }
    }

    private HttpRequestMessage Authorized(WorkerEndpoint worker, HttpRequestMessage message)
    {
        var secret = options.Value.TokenSecret ?? throw new InvalidOperationException(WorkerClientOptions.MissingSecret);
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", WorkerTokens.Derive(secret, worker.Name, worker.Generation));
        return message;
    }

    public async Task<IReadOnlyList<VolumeDeletion>> DestroyAsync(
        WorkerEndpoint worker, IReadOnlyList<string> handles, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentNullException.ThrowIfNull(handles);
        if (handles.Count == 0)
        {
            return [];
        }

        var secret = options.Value.TokenSecret ?? throw new InvalidOperationException(WorkerClientOptions.MissingSecret);
        var client = httpClientFactory.CreateClient(ClientName);
        var token = WorkerTokens.Derive(secret, worker.Name, worker.Generation);
        try
        {
            return handles.Count == 1
                ? [await DeleteOneAsync(client, worker, token, handles[0], cancellationToken)]
                : await DestroyManyAsync(client, worker, token, handles, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Whatever the worker or the network did — refused, reset after accepting, timed out, an
            // answer that is not JSON — the handles are simply not confirmed gone.
            var reason = Describe(ex);
            return [.. handles.Select(h => new VolumeDeletion(h, Gone: false, reason))];
        }
    }

    private static async Task<VolumeDeletion> DeleteOneAsync(
        HttpClient client, WorkerEndpoint worker, string token, string handle, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, new Uri(worker.BaseUrl, $"{VolumeProtocol.VolumesPath}/{Uri.EscapeDataString(handle)}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await client.SendAsync(request, cancellationToken);
        return response.StatusCode switch
        {
            HttpStatusCode.NoContent or HttpStatusCode.OK or HttpStatusCode.NotFound => new VolumeDeletion(handle, Gone: true),
            HttpStatusCode.Accepted => new VolumeDeletion(handle, Gone: false, "the worker is still removing its data", Pending: true),
            _ => new VolumeDeletion(handle, Gone: false, await FailureAsync(response, cancellationToken)),
        };
    }

    private static async Task<IReadOnlyList<VolumeDeletion>> DestroyManyAsync(
        HttpClient client, WorkerEndpoint worker, string token, IReadOnlyList<string> handles, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(worker.BaseUrl, VolumeProtocol.DestroyPath))
        {
            Content = JsonContent.Create(new DestroyVolumesRequest(handles), options: VolumeProtocol.Json),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await client.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var failure = await FailureAsync(response, cancellationToken);
            return [.. handles.Select(h => new VolumeDeletion(h, Gone: false, failure))];
        }

        var body = await response.Content.ReadFromJsonAsync<DestroyVolumesResponse>(VolumeProtocol.Json, cancellationToken);
        var byHandle = (body?.Results ?? []).ToDictionary(r => r.Handle, StringComparer.Ordinal);
        return [.. handles.Select(h => byHandle.TryGetValue(h, out var result)
            ? new VolumeDeletion(
                h,
                result.Outcome is DestroyOutcome.Deleted or DestroyOutcome.NotFound,
                result.Outcome == DestroyOutcome.Pending ? "the worker is still removing its data" : Excerpt.Of(result.Error),
                Pending: result.Outcome == DestroyOutcome.Pending)
            : new VolumeDeletion(h, Gone: false, "the worker's answer did not mention this handle"))];
    }

    private static Task<string> FailureAsync(HttpResponseMessage response, CancellationToken cancellationToken) =>
        FailedAnswer.DescribeAsync(response, cancellationToken);

    private static string Describe(Exception ex) => Excerpt.Of(ex switch
    {
        TimeoutRejectedException or TaskCanceledException => "timed out",
        BrokenCircuitException => "circuit open: the worker kept failing",
        HttpRequestException http => $"unreachable: {http.Message}",
        _ => $"{ex.GetType().Name}: {ex.Message}",
    });
}
