using Atc.Gc.Model;
using Microsoft.AspNetCore.Http;

namespace Atc.Gc.Web;

/// <summary>
/// Every error answer is application/problem+json with a title and a detail that says what was wrong,
/// on one line (what a caller sent and is echoed back is excerpted: no control characters, bounded).
/// </summary>
public static class Problems
{
    /// <summary>The longest detail of an answer.</summary>
    public const int MaxDetailLength = 1000;

    public static IResult Create(int status, string title, string detail) =>
        Results.Problem(detail: Excerpt.Of(detail, MaxDetailLength), statusCode: status, title: title);

    public static IResult BadRequest(string detail) => Create(StatusCodes.Status400BadRequest, "bad request", detail);

    public static IResult NotFound(string detail) => Create(StatusCodes.Status404NotFound, "not found", detail);

    public static IResult Conflict(string detail) => Create(StatusCodes.Status409Conflict, "conflict", detail);

    /// <summary>A 401 with the challenge RFC 6750 asks for: <c>WWW-Authenticate: Bearer</c>.</summary>
    public static IResult Unauthorized(string detail) => new BearerChallenge(Create(StatusCodes.Status401Unauthorized, "unauthorized", detail));

    public static IResult TooManyRequests(string detail) => Create(StatusCodes.Status429TooManyRequests, "too many requests", detail);

    private sealed class BearerChallenge(IResult problem) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            ArgumentNullException.ThrowIfNull(httpContext);
            httpContext.Response.Headers.WWWAuthenticate = "Bearer";
            return problem.ExecuteAsync(httpContext);
        }
    }
}
