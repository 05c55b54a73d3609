using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;

namespace Atc.Gc.Web.Hosting;

/// <summary>
/// <c>Management:Listen</c>: health and <c>/metrics</c> on an address of their own. When it is set, the
/// host listens there too, serves health and metrics only there, and its API only on its own listen
/// address — so a scraper or a load balancer's probe can be let in without reaching the API, and the
/// API's port can be closed to them. Unset, everything is served on the one listen address.
/// </summary>
public static class ManagementPort
{
    public const string Setting = "Management:Listen";

    /// <summary>The management address, validated against the host's <paramref name="listen"/>; null when not set.</summary>
    internal static Uri? Address(IConfiguration configuration, string listen)
    {
        var value = configuration[Setting];
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || uri.IsDefaultPort || uri.Port == 0 || uri.AbsolutePath != "/" || uri.Query.Length > 0)
        {
            throw new ArgumentException($"{Setting} must be http(s)://host:port with a fixed, explicit port and nothing after it, not '{value}'");
        }

        if (Uri.TryCreate(listen, UriKind.Absolute, out var own) && own.Port == uri.Port)
        {
            throw new ArgumentException($"{Setting} ({value}) must have another port than the listen address ({listen})");
        }

        return uri;
    }

    /// <summary>Health and metrics answer only on the management port, everything else only off it (404).</summary>
    internal static WebApplication UseManagementPort(this WebApplication app, int port)
    {
        app.Use(async (context, next) =>
        {
            var onManagement = context.Connection.LocalPort == port;
            if (onManagement != IsManagementPath(context.Request.Path))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            await next(context);
        });
        return app;
    }

    private static bool IsManagementPath(PathString path) =>
        path.StartsWithSegments(HostHealth.Alias, StringComparison.Ordinal) || path.StartsWithSegments("/metrics", StringComparison.Ordinal);
}
