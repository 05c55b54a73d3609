using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Atc.Gc.Web;

/// <summary>
/// Reads a request's JSON body with a size limit, turning every way it can be wrong into a
/// problem+json answer that says what: too large (413), not JSON or the wrong shape (400).
/// </summary>
public static class JsonBody
{
    public static async Task<(T? Value, IResult? Problem)> ReadAsync<T>(
        HttpContext context, long maxBytes, JsonSerializerOptions options, CancellationToken cancellationToken)
        where T : class
    {
        if (Prepare(context, maxBytes) is { } refused)
        {
            return (null, refused);
        }

        try
        {
            var value = await JsonSerializer.DeserializeAsync<T>(context.Request.Body, options, cancellationToken);
            return value is null
                ? (null, Problems.BadRequest("the request body is empty or null; a JSON object is required"))
                : (value, null);
        }
        catch (JsonException ex)
        {
            return (null, Problems.BadRequest($"the request body is not valid JSON for this request: {ex.Message}"));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge(maxBytes));
        }
        catch (BadHttpRequestException ex)
        {
            return (null, Unreadable(ex));
        }
    }

    /// <summary>
    /// A body Kestrel gave up reading — sent too slowly (below its minimum data rate: 408), cut off or
    /// malformed (400) — answered with the status Kestrel chose, never as a server error.
    /// </summary>
    public static IResult Unreadable(BadHttpRequestException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.StatusCode == StatusCodes.Status408RequestTimeout
            ? Problems.Create(StatusCodes.Status408RequestTimeout, "request timeout", "the request body arrived too slowly and was not read to its end")
            : Problems.Create(exception.StatusCode, "bad request", $"the request body could not be read: {exception.Message}");
    }

    /// <summary>
    /// Before a body is read as a stream: refuses one declared larger than <paramref name="maxBytes"/> (413)
    /// or not JSON (415), and limits what may be read to <paramref name="maxBytes"/> (reading past it
    /// throws a <see cref="BadHttpRequestException"/> with status 413). Null when the body may be read.
    /// </summary>
    public static IResult? Prepare(HttpContext context, long maxBytes)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Request.ContentLength > maxBytes)
        {
            return TooLarge(maxBytes);
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBytes;
        }

        return context.Request.ContentType is { } type && !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
            ? Problems.Create(StatusCodes.Status415UnsupportedMediaType, "unsupported media type", $"the body must be application/json, not {type}")
            : null;
    }

    /// <summary>The 413 answer for a body over <paramref name="maxBytes"/>.</summary>
    public static IResult TooLarge(long maxBytes) =>
        Problems.Create(StatusCodes.Status413PayloadTooLarge, "request body too large", $"the request body is larger than the limit of {maxBytes} bytes");
}
