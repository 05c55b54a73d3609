using Atc.Gc.Model;

namespace Atc.Gc.Workers;

/// <summary>
/// The shape of a worker's base URL: absolute http or https, a host and nothing else — no path but
/// <c>/</c>, no query, no fragment, no user information — so the collector's requests can only go to
/// the agent's own routes (<c>/volumes…</c>) on that host and port.
/// </summary>
public static class WorkerBaseUrl
{
    /// <summary>The URL, or why it is refused (one line, the input excerpted).</summary>
    public static (Uri? Url, string? Refusal) Parse(string? text)
    {
        var shown = Excerpt.Of(text, 120);
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || string.IsNullOrEmpty(url.Host))
        {
            return (null, $"'baseUrl' must be an absolute http or https URL, not '{shown}'");
        }

        // Judged on the text as sent too: the parsed URL has dot segments and escapes already resolved.
        var afterScheme = text![(text.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var slash = afterScheme.IndexOfAny(['/', '\\']);
        var pathOnly = slash < 0 || slash == afterScheme.Length - 1;
        if (!pathOnly || url.UserInfo.Length > 0 || url.AbsolutePath != "/" || url.Query.Length > 0 || url.Fragment.Length > 0 || text.IndexOfAny(['?', '#', '@']) >= 0)
        {
            return (null, $"'baseUrl' must be a scheme, a host and a port only (no user, path, query or fragment), not '{shown}'");
        }

        return (url, null);
    }
}
