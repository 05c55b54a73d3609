using System.Collections.Concurrent;
using System.Diagnostics;

namespace Atc.Gc.Agent.Native;

/// <summary>
/// Runs helper programs (cp, btrfs) so that they die with the agent. Each is started under
/// <c>setpriv --pdeathsig KILL</c>, from one thread that lives as long as the process: the kernel sends
/// the signal when the thread that forked the child ends, so a pool thread, which may retire, must not
/// be that thread. A program still running when the agent stops, or whose caller gives up, is killed.
/// Without setpriv, programs run as they are (and a crash can leave one running: recovery tolerates that).
/// </summary>
internal sealed class ChildProcesses
{
    private static readonly string? Setpriv = new[] { "/usr/bin/setpriv", "/bin/setpriv" }.FirstOrDefault(File.Exists);
    private readonly BlockingCollection<(ProcessStartInfo Start, TaskCompletionSource<Process> Started)> starts = [];
    private readonly ConcurrentDictionary<int, Process> running = new();

    private ChildProcesses()
    {
        var thread = new Thread(Spawn) { IsBackground = true, Name = "atc-gc child processes" };
        thread.Start();
    }

    /// <summary>The process-wide spawner.</summary>
    public static ChildProcesses Shared { get; } = new();

    /// <summary>True when children die with the agent (setpriv is installed).</summary>
    public static bool DieWithAgent => Setpriv is not null;

    /// <summary>Runs <paramref name="program"/> to completion: its exit code and what it wrote to stderr. Cancelling kills it.</summary>
    public async Task<(int ExitCode, string Error)> RunAsync(string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(Setpriv ?? program) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (Setpriv is not null)
        {
            foreach (var argument in (string[])["--pdeathsig", "KILL", "--", program])
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var started = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        starts.Add((start, started), CancellationToken.None);
        using var process = await started.Task;
        running[process.Id] = process;
        try
        {
            var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var error = process.StandardError.ReadToEndAsync(CancellationToken.None);
            try
            {
                await process.WaitForExitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Kill(process);
                await process.WaitForExitAsync(CancellationToken.None);
                throw;
            }

            await output;
            return (process.ExitCode, (await error).Trim());
        }
        finally
        {
            running.TryRemove(process.Id, out _);
        }
    }

    /// <summary>Kills every program still running (the agent is stopping).</summary>
    public void KillAll()
    {
        foreach (var process in running.Values)
        {
            Kill(process);
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }

    private void Spawn()
    {
        foreach (var (start, started) in starts.GetConsumingEnumerable())
        {
            try
            {
                started.SetResult(Process.Start(start) ?? throw new IOException($"could not start {start.FileName}"));
            }
            catch (Exception ex)
            {
                started.SetException(ex);
            }
        }
    }
}
