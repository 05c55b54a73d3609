using System.Collections.Concurrent;
using Atc.Gc.Workers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atc.Gc.IntegrationTests.Infrastructure;

/// <summary>
/// A worker agent stand-in on a loopback port, speaking the agent's volume routes over real HTTP,
/// whose behaviour a test can switch: healthy, answering 500, or hanging. It keeps the set of
/// handles "on disk" and counts every delete it was asked for.
/// </summary>
public sealed class FakeWorker : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly string secret;
    private readonly ConcurrentDictionary<string, int> deleteRequests = new(StringComparer.Ordinal);

    private FakeWorker(WebApplication app, string name, string secret)
    {
        this.app = app;
        this.secret = secret;
        Name = name;
    }

    public enum Behaviour
    {
        Healthy,
        Failing,
        Hanging,
    }

    public string Name { get; }

    public Uri BaseUrl { get; private set; } = null!;

    public Behaviour Mode { get; set; } = Behaviour.Healthy;

    /// <summary>The token generation whose token this worker accepts (its token, as the orchestrator gave it).</summary>
    public long Generation { get; set; }

    /// <summary>Handles of the volumes this worker holds.</summary>
    public ConcurrentDictionary<string, bool> Volumes { get; } = new(StringComparer.Ordinal);

    /// <summary>How many times each handle was asked to be deleted.</summary>
    public IReadOnlyDictionary<string, int> DeleteRequests => deleteRequests;

    private int unauthorizedRequests;

    /// <summary>The <c>traceparent</c> headers of the requests it received (trace context from the orchestrator).</summary>
    public ConcurrentQueue<string> TraceParents { get; } = new();

    public int UnauthorizedRequests => unauthorizedRequests;

    /// <summary>Handles the worker says it is still removing (pending) this many more times before it confirms them gone.</summary>
    public ConcurrentDictionary<string, int> StillRemoving { get; } = new(StringComparer.Ordinal);

    public static async Task<FakeWorker> StartAsync(string name, string secret)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var worker = new FakeWorker(app, name, secret);
        worker.MapRoutes();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        worker.BaseUrl = new Uri(address + "/");
        return worker;
    }

    public void Hold(IEnumerable<string> handles)
    {
        foreach (var handle in handles)
        {
            Volumes[handle] = true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private void MapRoutes()
    {
        app.Use(async (context, next) =>
        {
            if (context.Request.Headers.TryGetValue("traceparent", out var traceParent))
            {
                TraceParents.Enqueue(traceParent.ToString());
            }

            var header = context.Request.Headers.Authorization.ToString();
            if (!header.StartsWith("Bearer ", StringComparison.Ordinal) || !WorkerTokens.Verify(secret, Name, Generation, header["Bearer ".Length..]))
            {
                Interlocked.Increment(ref unauthorizedRequests);
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }

            switch (Mode)
            {
                case Behaviour.Failing:
                    context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                    await context.Response.WriteAsync("disk on fire");
                    return;
                case Behaviour.Hanging:
                    await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                    return;
                default:
                    await next(context);
                    return;
            }
        });

        app.MapDelete("/volumes/{handle}", (string handle) => Delete(handle) switch
        {
            DestroyOutcome.Deleted => Results.NoContent(),
            DestroyOutcome.Pending => Results.Accepted(),
            _ => Results.NotFound(),
        });

        app.MapPost("/volumes/destroy", async (HttpContext context) =>
        {
            var request = await context.Request.ReadFromJsonAsync<DestroyVolumesRequest>(VolumeProtocol.Json);
            var results = request!.Handles.Select(h => new DestroyVolumeResult(h, Delete(h))).ToList();
            return Results.Json(new DestroyVolumesResponse(results), VolumeProtocol.Json);
        });
    }

    private DestroyOutcome Delete(string handle)
    {
        deleteRequests.AddOrUpdate(handle, 1, (_, n) => n + 1);
        if (StillRemoving.TryGetValue(handle, out var left) && left > 0)
        {
            StillRemoving[handle] = left - 1;
            return DestroyOutcome.Pending;
        }

        return Volumes.TryRemove(handle, out _) ? DestroyOutcome.Deleted : DestroyOutcome.NotFound;
    }
}
