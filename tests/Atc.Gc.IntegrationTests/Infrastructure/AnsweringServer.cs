using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atc.Gc.IntegrationTests.Infrastructure;

/// <summary>An HTTP server on a loopback port that answers every request with <c>answer</c> and counts the requests it got: a hostile or broken worker, or a service a worker URL should never reach.</summary>
public sealed class AnsweringServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private int requests;

    private AnsweringServer(WebApplication app) => this.app = app;

    public Uri BaseUrl { get; private set; } = null!;

    public int Requests => Volatile.Read(ref requests);

    public static async Task<AnsweringServer> StartAsync(Func<HttpContext, Task> answer)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new AnsweringServer(app);
        app.Run(context =>
        {
            Interlocked.Increment(ref server.requests);
            return answer(context);
        });
        await app.StartAsync();
        server.BaseUrl = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First() + "/");
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
