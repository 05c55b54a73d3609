using Microsoft.AspNetCore.Http;

namespace Atc.Gc.Web;

/// <summary>Every error answer is application/problem+json with a title and a detail that says what was wrong.</summary>
public static class Problems
{
    public static IResult Create(int status, string title, string detail) =>
        Results.Problem(detail: detail, statusCode: status, title: title);

    public static IResult BadRequest(string detail) => Create(StatusCodes.Status400BadRequest, "bad request", detail);

    public static IResult NotFound(string detail) => Create(StatusCodes.Status404NotFound, "not found", detail);

    public static IResult Conflict(string detail) => Create(StatusCodes.Status409Conflict, "conflict", detail);

    public static IResult Unauthorized(string detail) => Create(StatusCodes.Status401Unauthorized, "unauthorized", detail);

    public static IResult TooManyRequests(string detail) => Create(StatusCodes.Status429TooManyRequests, "too many requests", detail);
}
