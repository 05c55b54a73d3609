using Atc.Gc.Model;
using Atc.Gc.Web;
using Atc.Gc.Workers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Atc.Gc.Agent;

/// <summary>The agent's HTTP routes (see <see cref="VolumeProtocol"/>); health and <c>/metrics</c> are the host's defaults.</summary>
public static class AgentApi
{
    private const int MaxProperties = 64;
    private const int MaxPropertyLength = 1024;

    public static IEndpointRouteBuilder MapAgentApi(this IEndpointRouteBuilder routes)
    {
        var volumes = routes.MapGroup("/volumes").AddEndpointFilter(RequireToken);
        volumes.MapPost("/", CreateAsync);
        volumes.MapGet("/", (VolumeStore store) => Results.Ok(new VolumeListResponse([.. store.List().Select(ToDto)])));
        volumes.MapGet("/{handle}", (string handle, VolumeStore store, HttpContext context) => WithHandleAsync(handle, async h =>
            await store.MeasureAsync(h, context.RequestAborted) is { } volume ? Results.Ok(ToDto(volume)) : Problems.NotFound($"no volume '{h}' on this worker")));
        volumes.MapDelete("/{handle}", (string handle, VolumeStore store, IOptions<AgentOptions> options, HttpContext context) => WithHandleAsync(handle, async h =>
        {
            var result = await store.DeleteAsync(h, options.Value.DeleteBudget, context.RequestAborted);
            return result.Outcome switch
            {
                DestroyOutcome.Deleted => Results.NoContent(),
                DestroyOutcome.NotFound => Problems.NotFound($"no volume '{h}' on this worker"),
                DestroyOutcome.Pending => Results.Json(result, VolumeProtocol.Json, statusCode: StatusCodes.Status202Accepted),
                _ when result.Error?.Contains("live children", StringComparison.Ordinal) == true => Problems.Conflict(result.Error),
                _ => Problems.Create(StatusCodes.Status500InternalServerError, "delete failed", result.Error ?? "the volume could not be deleted"),
            };
        }));
        volumes.MapPost("/destroy", DestroyAsync);
        return routes;
    }

    private static async Task<IResult> CreateAsync(HttpContext context, VolumeStore store, IOptions<AgentOptions> options)
    {
        var (request, problem) = await JsonBody.ReadAsync<CreateVolumeRequest>(context, options.Value.MaxRequestBytes, VolumeProtocol.Json, context.RequestAborted);
        if (problem is not null)
        {
            return problem;
        }

        if (!HandleFormat.IsValid(request!.Handle))
        {
            return Problems.BadRequest(InvalidHandle(request.Handle));
        }

        var strategy = request.Strategy ?? new VolumeStrategyDto("empty");
        switch (strategy.Type)
        {
            case "empty" when strategy.Parent is null:
                break;
            case "cow" when HandleFormat.IsValid(strategy.Parent):
                break;
            case "cow":
                return Problems.BadRequest($"a cow strategy needs a valid parent handle: {InvalidHandle(strategy.Parent)}");
            default:
                return Problems.BadRequest($"unknown strategy '{strategy.Type}': use 'empty', or 'cow' with a parent");
        }

        var properties = request.Properties ?? new Dictionary<string, string>();
        if (properties.Count > MaxProperties || properties.Any(p => p.Key.Length > MaxPropertyLength || (p.Value?.Length ?? 0) > MaxPropertyLength))
        {
            return Problems.BadRequest($"at most {MaxProperties} properties of at most {MaxPropertyLength} characters each");
        }

        var (outcome, volume) = await store.CreateAsync(
            request.Handle, new VolumeStrategy(strategy.Type, strategy.Parent), properties, context.RequestAborted);
        return outcome switch
        {
            CreateOutcome.Created => Results.Created($"/volumes/{volume!.Handle}", ToDto(volume)),
            CreateOutcome.AlreadyExists => Problems.Conflict($"a volume '{request.Handle}' already exists on this worker"),
            CreateOutcome.ParentUnusable => Problems.Conflict($"the parent volume '{strategy.Parent}' is on this worker but its data is not usable (see /health)"),
            CreateOutcome.NoSpace => Problems.Create(
                StatusCodes.Status507InsufficientStorage, "insufficient storage",
                $"the volumes on this worker would take more than Agent:MaxBytes ({options.Value.MaxBytes} bytes)"),
            _ => Problems.NotFound($"the parent volume '{strategy.Parent}' does not exist on this worker"),
        };
    }

    private static async Task<IResult> DestroyAsync(HttpContext context, VolumeStore store, IOptions<AgentOptions> options)
    {
        var (request, problem) = await JsonBody.ReadAsync<DestroyVolumesRequest>(context, options.Value.MaxRequestBytes, VolumeProtocol.Json, context.RequestAborted);
        if (problem is not null)
        {
            return problem;
        }

        if (request!.Handles is null || request.Handles.Count > VolumeProtocol.MaxHandlesPerDestroy)
        {
            return Problems.BadRequest($"'handles' must list at most {VolumeProtocol.MaxHandlesPerDestroy} handles");
        }

        var invalid = request.Handles.FirstOrDefault(h => !HandleFormat.IsValid(h));
        if (invalid is not null || request.Handles.Any(h => h is null))
        {
            return Problems.BadRequest(InvalidHandle(invalid));
        }

        var results = await store.DeleteAsync(request.Handles, options.Value.DeleteBudget, context.RequestAborted);
        return Results.Json(new DestroyVolumesResponse(results), VolumeProtocol.Json);
    }

    private static async Task<IResult> WithHandleAsync(string handle, Func<string, Task<IResult>> action) =>
        HandleFormat.IsValid(handle) ? await action(handle) : Problems.BadRequest(InvalidHandle(handle));

    private static string InvalidHandle(string? handle) =>
        $"'{handle}' is not a valid handle: 1 to {HandleFormat.MaxLength} characters of letters, digits, '.', '_' or '-', starting with a letter or digit";

    private static VolumeDto ToDto(VolumeInfo volume) => new(volume.Handle, volume.SizeBytes, volume.CreatedAt, volume.Parent, volume.Properties);

    private static async ValueTask<object?> RequireToken(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var options = context.HttpContext.RequestServices.GetRequiredService<IOptions<AgentOptions>>().Value;
        var token = BearerToken.From(context.HttpContext.Request);
        if (token is null)
        {
            return Problems.Unauthorized("an Authorization: Bearer <worker token> header is required");
        }

        return System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                System.Text.Encoding.UTF8.GetBytes(token), System.Text.Encoding.UTF8.GetBytes(options.Token!))
            ? await next(context)
            : Problems.Unauthorized($"the token is not this worker's ('{options.Name}')");
    }
}
