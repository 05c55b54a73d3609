using System.Diagnostics;

namespace Atc.Gc.IntegrationTests.Cli;

/// <summary>
/// atc-gc run on a pseudo-terminal through util-linux's <c>script</c>, with what a person would type:
/// standard input, output and error are all the terminal.
/// </summary>
public static class TerminalSession
{
    public const string Script = "/usr/bin/script";

    /// <summary>Runs <c>dotnet atc-gc.dll ARGUMENTS</c> on a terminal, typing <paramref name="typed"/>: its exit code and everything the terminal showed.</summary>
    public static async Task<(int ExitCode, string Screen)> RunAsync(IEnumerable<string> arguments, string typed)
    {
        var command = string.Join(' ', new[] { "dotnet", Infrastructure.AtcGcProcess.Binary }.Concat(arguments).Select(Quote));
        var start = new ProcessStartInfo(Script)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--quiet", "--return", "--command", command, "/dev/null" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(typed);
        await process.StandardInput.FlushAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(limit.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    private static string Quote(string word) => "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}

/// <summary>A test that needs <see cref="TerminalSession"/>: skipped, saying why, without util-linux's script.</summary>
public sealed class TerminalTheoryAttribute : TheoryAttribute
{
    public TerminalTheoryAttribute()
    {
        if (!File.Exists(TerminalSession.Script))
        {
            Skip = $"{TerminalSession.Script} (Debian package bsdutils) is not installed: no pseudo-terminal to ask on";
        }
    }
}
