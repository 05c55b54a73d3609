using System.Diagnostics;
using System.Net.Http.Headers;
using Atc.Gc.Hosting;

namespace Atc.Gc.Cli.Demo;

/// <summary>A worker agent run as its own process (<c>atc-gc worker</c>) on a fixed loopback port, with its output in a log file.</summary>
internal sealed class AgentProcess : IAsyncDisposable
{
    private readonly Uri orchestrator;
    private readonly string logFile;
    private readonly Lock logLock = new();
    private Process? process;

    public AgentProcess(string name, string root, int port, string token, Uri orchestrator, string logFile)
    {
        Name = name;
        Root = root;
        Port = port;
        Token = token;
        this.orchestrator = orchestrator;
        this.logFile = logFile;
        Client = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(10) };
        Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public string Name { get; }

    public string Root { get; }

    public int Port { get; }

    public string Token { get; }

    public Uri BaseUrl => new($"http://127.0.0.1:{Port}/");

    /// <summary>A client that calls this agent with its token.</summary>
    public HttpClient Client { get; }

    public bool Up => process is { HasExited: false };

    public string VolumesDirectory => Path.Combine(Root, "volumes");

    public string DataPath(string handle) => Path.Combine(VolumesDirectory, handle, "data");

    public void Start()
    {
        var start = SelfProcess.StartInfo(
        [
            "worker", "--name", Name, "--root", Root, "--listen", BaseUrl.ToString(), "--orchestrator", orchestrator.ToString(),
            "--heartbeat-interval", "1s", "--report-interval", "2s", "--resource-type", "git=demo/git-resource@1.0",
        ]);

        start.Environment["ATC_GC_WORKER_TOKEN"] = Token;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        process = Process.Start(start) ?? throw new InvalidOperationException($"could not start worker agent {Name}");
        process.OutputDataReceived += (_, e) => Log(e.Data);
        process.ErrorDataReceived += (_, e) => Log(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>Waits until the agent answers its health check.</summary>
    public Task WaitReadyAsync(CancellationToken cancellationToken) =>
        Loopback.WaitHealthyAsync(Client, $"worker agent {Name} (log: {logFile})", () => !Up, TimeSpan.FromSeconds(60), cancellationToken);

    /// <summary>SIGKILL: the agent dies mid-whatever, as in a crash.</summary>
    public async Task KillAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        process?.Dispose();
        Client.Dispose();
    }

    private void Log(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (logLock)
        {
            File.AppendAllText(logFile, line + Environment.NewLine);
        }
    }
}
