using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Atc.Gc.Web.Hosting;

/// <summary>
/// The health endpoints: <c>/health/live</c> answers while the process is up (no check runs),
/// <c>/health/ready</c> runs every registered check, <c>/health</c> is the same as ready. The JSON
/// body carries each check's status, description and data.
/// </summary>
public static class HostHealth
{
    public const string Live = "/health/live";

    public const string Ready = "/health/ready";

    public const string Alias = "/health";

    /// <summary>Maps the three; with <paramref name="readiness"/> (a route handler), ready and the alias answer with it instead of the checks.</summary>
    public static WebApplication MapHostHealth(this WebApplication app, Delegate? readiness = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapHealthChecks(Live, new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync });
        foreach (var path in (string[])[Ready, Alias])
        {
            if (readiness is null)
            {
                app.MapHealthChecks(path, new HealthCheckOptions { ResponseWriter = WriteAsync });
            }
            else
            {
                app.MapGet(path, readiness);
            }
        }

        return app;
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description, data = e.Value.Data }),
        }));
    }
}
