using System.Diagnostics;
using System.Text;

namespace Atc.Gc.IntegrationTests.Infrastructure;

/// <summary>The atc-gc command-line tool run as a real process (the binary built next to the tests).</summary>
public sealed class AtcGcProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();

    private AtcGcProcess(Process process)
    {
        this.process = process;
        process.StandardInput.Close();
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    public bool HasExited => process.HasExited;

    /// <summary>The process id (for signals: SIGSTOP to hang it, SIGCONT to resume it).</summary>
    public int Id => process.Id;

    /// <summary>
    /// atc-gc.dll in the command-line project's own output folder, built in the same configuration as
    /// these tests (…/tests/X/bin/&lt;configuration&gt;/net10.0 → …/tools/Atc.Gc.Cli/bin/&lt;configuration&gt;/net10.0).
    /// </summary>
    public static string Binary { get; } = LocateBinary("Atc.Gc.Cli", "atc-gc.dll");

    /// <summary>A tool's (or, with <paramref name="folder"/>, a sample's) dll in its own project's output folder, in this test run's configuration.</summary>
    public static string LocateBinary(string project, string dll, string folder = "tools")
    {
        var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        var configuration = framework.Parent!;
        for (var dir = configuration.Parent; dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, folder, project, "bin", configuration.Name, framework.Name, dll);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"{dll} was not found for {configuration.Name}/{framework.Name}: build {folder}/{project}");
    }

    /// <summary>Starts <c>atc-gc</c> with <paramref name="arguments"/> and extra environment variables, in <paramref name="workingDirectory"/> when given.</summary>
    public static AtcGcProcess Start(IEnumerable<string> arguments, IDictionary<string, string?>? environment = null, string? workingDirectory = null)
    {
        var start = StartInfo(Binary, arguments, environment);
        start.WorkingDirectory = workingDirectory ?? string.Empty;
        return new(Process.Start(start) ?? throw new InvalidOperationException("could not start atc-gc"));
    }

    /// <summary>Runs <c>atc-gc</c> to completion: exit code, stdout and stderr.</summary>
    public static Task<(int ExitCode, string StandardOutput, string StandardError)> RunAsync(
        IEnumerable<string> arguments, IDictionary<string, string?>? environment = null, TimeSpan? timeout = null) =>
        RunBinaryAsync(Binary, arguments, environment, timeout);

    /// <summary>Runs a tool's dll to completion: exit code, stdout and stderr. One still running after <paramref name="timeout"/> is killed and fails the test.</summary>
    public static async Task<(int ExitCode, string StandardOutput, string StandardError)> RunBinaryAsync(
        string binary, IEnumerable<string> arguments, IDictionary<string, string?>? environment = null, TimeSpan? timeout = null)
    {
        using var process = Process.Start(StartInfo(binary, arguments, environment)) ?? throw new InvalidOperationException($"could not start {binary}");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var limit = timeout ?? TimeSpan.FromMinutes(2);
        using var cancel = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"{Path.GetFileName(binary)} {string.Join(' ', arguments)} was still running after {limit} and was killed:\n{await stdout}\n{await stderr}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    private static ProcessStartInfo StartInfo(string binary, IEnumerable<string> arguments, IDictionary<string, string?>? environment)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            // Standard input is a closed pipe, never a terminal: as in a script or CI, nothing can be asked.
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(binary);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            start.Environment[key] = value;
        }

        return start;
    }

    /// <summary>SIGKILL: no shutdown, no cleanup — what a crash looks like.</summary>
    public async Task KillAsync()
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            await KillAsync();
        }

        process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }
}
