using System.Collections.Concurrent;
using System.Text.Json;
using Atc.Gc.Web;
using Atc.Gc.Workers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atc.Gc.IntegrationTests.Agent;

/// <summary>
/// An orchestrator stand-in on loopback: it answers the agent's calls as a real one would, or resets
/// every connection, or answers garbage — switchable while the agent runs — and records what it was sent.
/// </summary>
public sealed class StandInOrchestrator : IAsyncDisposable
{
    private readonly WebApplication app;

    private StandInOrchestrator(WebApplication app) => this.app = app;

    public enum Behaviour
    {
        Answer,
        Reset,
        Garbage,
    }

    public Behaviour Mode { get; set; } = Behaviour.Answer;

    public Uri BaseUrl => ServerAddresses.First(app.Services.GetRequiredService<IServer>());

    /// <summary>Requests received, as "METHOD path", with their bodies.</summary>
    public ConcurrentQueue<(string Request, string Body)> Received { get; } = new();

    public int Count(string method, string pathEnd) =>
        Received.Count(r => r.Request.StartsWith(method + " ", StringComparison.Ordinal) && r.Request.EndsWith(pathEnd, StringComparison.Ordinal));

    public static async Task<StandInOrchestrator> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var standIn = new StandInOrchestrator(app);
        app.Run(standIn.HandleAsync);
        await app.StartAsync();
        return standIn;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var body = await new StreamReader(context.Request.Body).ReadToEndAsync();
        var path = context.Request.Path.Value ?? string.Empty;
        Received.Enqueue(($"{context.Request.Method} {path}", body));
        switch (Mode)
        {
            case Behaviour.Reset:
                context.Abort();
                return;
            case Behaviour.Garbage:
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("<html>not what you expected");
                return;
        }

        var now = DateTimeOffset.UtcNow;
        object answer = path switch
        {
            _ when path.EndsWith("/volumes/report", StringComparison.Ordinal) => new VolumeReportResponse([], 0, 0, 0, now),
            _ when path.EndsWith("/volumes/gone", StringComparison.Ordinal) => new VolumesGoneResponse(
                JsonSerializer.Deserialize<VolumesGoneRequest>(body, VolumeProtocol.Json)!.Handles.Count, now),
            _ => new WorkerDto("w1", "running", null, now, [], ServerTime: now),
        };
        await context.Response.WriteAsJsonAsync(answer, VolumeProtocol.Json);
    }
}
