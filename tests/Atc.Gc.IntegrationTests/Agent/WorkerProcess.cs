using System.Diagnostics;
using System.Net.Http.Headers;
using Atc.Gc.Hosting;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Workers;

namespace Atc.Gc.IntegrationTests.Agent;

/// <summary><c>atc-gc worker</c> as a process of its own, which a test can kill alone (SIGKILL to it, not to its children).</summary>
public sealed class WorkerProcess : IAsyncDisposable
{
    private readonly Process process;

    private WorkerProcess(Process process, string root, int port, string token)
    {
        this.process = process;
        Root = root;
        Port = port;
        Token = token;
    }

    public int Id => process.Id;

    public string Root { get; }

    public int Port { get; }

    public string Token { get; }

    public static async Task<WorkerProcess> StartAsync(string root, int? port = null, params string[] extra)
    {
        var listen = port ?? Loopback.FreePort();
        var token = WorkerTokens.Derive(CollectorHarness.Secret, "w1", generation: 0);
        // Output is not redirected: a child the agent leaves behind would hold a pipe open, and waiting for the agent would wait for it.
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false };
        foreach (var argument in (string[])[AtcGcProcess.Binary, "worker", "--name", "w1", "--root", root, "--listen", $"http://127.0.0.1:{listen}", .. extra])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["ATC_GC_WORKER_TOKEN"] = token;
        var process = Process.Start(start)!;
        var worker = new WorkerProcess(process, root, listen, token);
        using var probe = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{listen}/"), Timeout = TimeSpan.FromSeconds(1) };
        await Eventually.TrueAsync(() => Loopback.IsHealthyAsync(probe), "the worker process answers", TimeSpan.FromSeconds(30));
        return worker;
    }

    public HttpClient Client()
    {
        var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Port}/"), Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        return client;
    }

    /// <summary>SIGKILL to the agent alone: its children are left to whatever it arranged for them.</summary>
    public async Task KillAloneAsync()
    {
        process.Kill(entireProcessTree: false);
        await process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
    }
}
