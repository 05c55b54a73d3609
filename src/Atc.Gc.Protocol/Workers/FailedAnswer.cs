using Atc.Gc.Model;

namespace Atc.Gc.Workers;

/// <summary>
/// A failed HTTP answer from the other side of the worker channel, in one short line: its status and
/// an excerpt of at most the first <see cref="MaxBodyBytes"/> of its body (never read whole), without
/// control characters — safe to store, log and show in <c>/health</c>.
/// </summary>
public static class FailedAnswer
{
    /// <summary>The most of a failed answer's body read.</summary>
    public const int MaxBodyBytes = 1024;

    public static async Task<string> DescribeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        var buffer = new byte[MaxBodyBytes];
        var read = 0;
        await using (var body = await response.Content.ReadAsStreamAsync(cancellationToken))
        {
            int n;
            while (read < buffer.Length && (n = await body.ReadAsync(buffer.AsMemory(read), cancellationToken)) > 0)
            {
                read += n;
            }
        }

        var excerpt = Excerpt.Of(System.Text.Encoding.UTF8.GetString(buffer, 0, read), 200);
        return Excerpt.Of($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}{(excerpt.Length > 0 ? ": " + excerpt : string.Empty)}");
    }
}
