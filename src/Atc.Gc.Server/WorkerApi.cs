using Atc.Gc.Model;
using Atc.Gc.Scheduling;
using Atc.Gc.Web;
using Atc.Gc.Workers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Atc.Gc.Server;

/// <summary>The API worker agents call (see <see cref="OrchestratorProtocol"/>). A worker acts only for its own name.</summary>
public static class WorkerApi
{
    /// <summary>The token generation the request's token was checked against (<see cref="HttpContext.Items"/>).</summary>
    private const string CheckedGeneration = "atc-gc.worker-token-generation";

    public static IEndpointRouteBuilder MapWorkerApi(this IEndpointRouteBuilder routes)
    {
        var worker = routes.MapGroup("/api/v1/workers/{name}").AddEndpointFilter(RequireWorkerToken);
        worker.MapPut("/", RegisterAsync);
        worker.MapPut("/volumes/report", ReportAsync);
        worker.MapPost("/volumes/gone", GoneAsync);
        worker.MapPost("/land", (string name, WorkerRepository workers, CancellationToken ct) =>
            ChangeStateAsync(name, workers, workers.LandAsync, "landing", ct));
        worker.MapPost("/retire", (string name, WorkerRepository workers, CancellationToken ct) =>
            ChangeStateAsync(name, workers, workers.RetireAsync, "retiring", ct));
        return routes;
    }

    private static async Task<IResult> RegisterAsync(
        string name, HttpContext context, WorkerRepository workers, WorkerNetworkPolicy policy, IOptions<OrchestratorOptions> options)
    {
        var (request, problem) = await JsonBody.ReadAsync<RegisterWorkerRequest>(context, options.Value.MaxRequestBytes, VolumeProtocol.Json, context.RequestAborted);
        if (problem is not null)
        {
            return problem;
        }

        var (baseUrl, malformed) = WorkerBaseUrl.Parse(request!.BaseUrl);
        if (malformed is not null)
        {
            return Problems.BadRequest(malformed);
        }

        if (await policy.RefusalAsync(baseUrl!, context.RequestAborted) is { } refused)
        {
            return Problems.BadRequest($"'baseUrl' {Excerpt.Of(baseUrl!.ToString(), 120)} is not a place a worker may be: {refused}");
        }

        var types = request.ResourceTypes ?? [];
        if (types.Any(t => t is null))
        {
            return Problems.BadRequest("'resourceTypes' must not contain null: each is an object with a name, an image and a version");
        }
        try
        {
            var registered = await workers.RegisterAsync(
                new WorkerRegistration(
                    name,
                    baseUrl!,
                    [.. types.Select(t => new BaseResourceTypeVersion(t.Name, t.Image, t.Version))],
                    request.Heartbeat,
                    request.InstallationId,
                    request.Disk is { } disk ? new WorkerDisk(disk.CapacityBytes, disk.FreeBytes, disk.VolumesBytes) : null,
                    (long)context.Items[CheckedGeneration]!),
                context.RequestAborted);
            return Results.Ok(ToDto(registered.Worker, registered.ResourceTypes) with
            {
                InstallationId = registered.Installation,
                Trusted = registered.Trusted,
                ServerTime = registered.ServerTime,
            });
        }
        catch (ArgumentException ex)
        {
            return Problems.BadRequest(ex.Message.Split(" (Parameter")[0]);
        }
        catch (UnauthorizedAccessException)
        {
            return RefusedToken(name);
        }
    }

    /// <summary>
    /// A full report, read as a stream (never held in memory as a whole) within <c>Orchestrator:MaxReportBytes</c>;
    /// one per worker at a time (429 otherwise).
    /// </summary>
    private static async Task<IResult> ReportAsync(
        string name, HttpContext context, VolumeReportService reports, ReportGate gate, IOptions<OrchestratorOptions> options)
    {
        if (!gate.TryEnter(name))
        {
            context.Response.Headers.RetryAfter = ((int)ReportGate.RetryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Problems.TooManyRequests($"a volume report of worker '{name}' is already being applied: send the next one after it");
        }

        try
        {
            var maxBytes = options.Value.MaxReportBytes;
            if (JsonBody.Prepare(context, maxBytes) is { } refused)
            {
                return refused;
            }

            var outcome = await reports.ApplyAsync(
                name, (sink, ct) => VolumeReportReader.ReadAsync(context.Request.Body, sink, ct), options.Value.UnknownVolumeGrace, context.RequestAborted);
            return outcome is null
                ? Problems.NotFound($"worker '{name}' is not registered: register (PUT /api/v1/workers/{name}) before reporting")
                : Results.Ok(new VolumeReportResponse(
                    outcome.Destroy, outcome.ConfirmedGone, outcome.Missing, outcome.Recovered, outcome.ServerTime, outcome.Installation, outcome.Hold));
        }
        catch (VolumeReportFormatException ex)
        {
            return Problems.BadRequest(ex.Message);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return JsonBody.TooLarge(options.Value.MaxReportBytes);
        }
        catch (BadHttpRequestException ex)
        {
            return JsonBody.Unreadable(ex);
        }
        finally
        {
            gate.Exit(name);
        }
    }

    /// <summary>An acknowledgement of volumes whose data the worker removed: confirms destroying ones gone, nothing else.</summary>
    private static async Task<IResult> GoneAsync(string name, HttpContext context, VolumeReportService reports, IOptions<OrchestratorOptions> options)
    {
        var (request, problem) = await JsonBody.ReadAsync<VolumesGoneRequest>(context, options.Value.MaxRequestBytes, VolumeProtocol.Json, context.RequestAborted);
        if (problem is not null)
        {
            return problem;
        }

        if (request!.Handles is null || request.Handles.Count > OrchestratorProtocol.MaxGonePerRequest)
        {
            return Problems.BadRequest($"'handles' must list at most {OrchestratorProtocol.MaxGonePerRequest} handles");
        }

        var invalid = request.Handles.FirstOrDefault(h => !HandleFormat.IsValid(h));
        if (invalid is not null || request.Handles.Any(h => h is null))
        {
            return Problems.BadRequest($"'{invalid}' is not a valid handle");
        }

        var confirmed = await reports.ConfirmGoneAsync(name, request.Handles, context.RequestAborted);
        return confirmed is { } done
            ? Results.Ok(new VolumesGoneResponse(done.ConfirmedGone, done.ServerTime))
            : Problems.NotFound($"worker '{name}' is not registered");
    }

    private static async Task<IResult> ChangeStateAsync(
        string name, WorkerRepository workers, Func<string, CancellationToken, Task<bool>> change, string target, CancellationToken cancellationToken)
    {
        if (await change(name, cancellationToken))
        {
            return Results.Ok(ToDto((await workers.FindAsync(name, cancellationToken))!, null));
        }

        var worker = await workers.FindAsync(name, cancellationToken);
        return worker is null
            ? Problems.NotFound($"worker '{name}' is not registered")
            : Problems.Conflict($"worker '{name}' is {worker.State.ToDb()} and cannot start {target}");
    }

    private static WorkerDto ToDto(Worker worker, IReadOnlyList<WorkerBaseResourceType>? types) => new(
        worker.Name,
        worker.State.ToDb(),
        worker.BaseUrl?.ToString(),
        worker.HeartbeatAt,
        [.. (types ?? []).Select(t => new ResourceTypeDto(t.Name, t.Image, t.Version))],
        Hold: worker.Hold is null ? null : $"{worker.Hold.Kind}: {worker.Hold.Detail}");

    /// <summary>
    /// The bearer token must be the current token of the worker named in the path: derived from the
    /// orchestrator's secret at the worker's token generation, so a rotated or revoked token is
    /// refused like a forged one. The generation checked is kept for the registration, which checks
    /// it again where it writes.
    /// </summary>
    private static async ValueTask<object?> RequireWorkerToken(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var name = context.HttpContext.GetRouteValue("name") as string;
        if (!WorkerNames.IsValid(name))
        {
            return Problems.BadRequest($"'{name}' is not a valid worker name");
        }

        var token = BearerToken.From(context.HttpContext.Request);
        if (token is null)
        {
            return Problems.Unauthorized("an Authorization: Bearer <worker token> header is required");
        }

        var services = context.HttpContext.RequestServices;
        var secret = services.GetRequiredService<IOptions<WorkerClientOptions>>().Value.TokenSecret!;
        var generation = await services.GetRequiredService<WorkerCredentials>().GenerationAsync(name!, context.HttpContext.RequestAborted);
        if (!WorkerTokens.Verify(secret, name!, generation, token))
        {
            return RefusedToken(name!);
        }

        context.HttpContext.Items[CheckedGeneration] = generation;
        return await next(context);
    }

    private static IResult RefusedToken(string name) => Problems.Unauthorized(
        $"the token is not the current token of worker '{name}': a worker can act only for its own name, and a rotated or revoked token is refused");
}
