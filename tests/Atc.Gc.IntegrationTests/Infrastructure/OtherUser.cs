using System.Diagnostics;

namespace Atc.Gc.IntegrationTests.Infrastructure;

/// <summary>Commands run as the unprivileged <c>nobody</c> account (through <c>runuser</c>; the tests using it run as root).</summary>
public static class OtherUser
{
    public const string Name = "nobody";

    /// <summary>Runs <paramref name="program"/> as <c>nobody</c>: exit code and everything it printed.</summary>
    public static Task<(int ExitCode, string Output)> RunAsync(string program, params string[] arguments) =>
        Command.RunAsync("runuser", ["-u", Name, "--", program, .. arguments]);

    /// <summary>Runs <paramref name="program"/> as <c>nobody</c> and fails the test when it does not succeed.</summary>
    public static Task RequireAsync(string program, params string[] arguments) =>
        Command.RequireAsync("runuser", ["-u", Name, "--", program, .. arguments]);
}

/// <summary>A program run to completion.</summary>
public static class Command
{
    public static async Task<(int ExitCode, string Output)> RunAsync(string program, IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(cancel.Token);
        return (process.ExitCode, ((await stdout) + (await stderr)).Trim());
    }

    /// <summary>Runs a program and fails the test when it does not succeed.</summary>
    public static async Task RequireAsync(string program, params string[] arguments)
    {
        var (code, output) = await RunAsync(program, arguments);
        Assert.True(code == 0, $"{program} {string.Join(' ', arguments)}: exit {code}: {output}");
    }
}
