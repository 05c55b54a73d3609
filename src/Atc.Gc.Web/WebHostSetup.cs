using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Atc.Gc.Web;

/// <summary>The web plumbing of both hosts (agent and orchestrator): Kestrel on one address (http or https), a body limit, problem+json errors.</summary>
public static class WebHostSetup
{
    /// <summary>Kestrel on <paramref name="listen"/> with a body limit, and problem+json answers; see <see cref="Hosting.HostDefaults.CreateBuilder"/>.</summary>
    internal static void UseKestrel(WebApplicationBuilder builder, string listen, long maxRequestBodyBytes)
    {
        // HTTPS from configuration: an https:// listen address serves the certificate of
        // Kestrel:Certificates:Default (Path and Password for PFX, or Path and KeyPath for PEM).
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.UseUrls(listen);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = maxRequestBodyBytes);
        builder.Services.AddProblemDetails();
    }

    /// <summary>Turns unhandled exceptions and bodiless error statuses into problem+json answers.</summary>
    public static WebApplication UseProblemAnswers(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // A request Kestrel could not read (a body too slow, too large, malformed) keeps Kestrel's status.
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = exception => exception is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
        });
        app.UseStatusCodePages();
        return app;
    }
}
