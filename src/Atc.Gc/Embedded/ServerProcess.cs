using System.Diagnostics;

namespace Atc.Gc.Embedded;

/// <summary>
/// Runs the PostgreSQL server programs. <c>initdb</c> and <c>postgres</c> refuse to run as root, so a
/// root process runs them as the <c>postgres</c> system user through <c>runuser</c>.
/// </summary>
internal static class ServerProcess
{
    public sealed record Result(int ExitCode, string Output);

    public static bool RunsAsServiceUser => Environment.IsPrivilegedProcess;

    public static async Task<Result> RunAsync(string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (RunsAsServiceUser)
        {
            start.FileName = Runuser();
            foreach (var argument in (string[])["-u", "postgres", "--", program])
            {
                start.ArgumentList.Add(argument);
            }
        }
        else
        {
            start.FileName = program;
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)
            ?? throw new EmbeddedPostgresException($"could not start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return new Result(process.ExitCode, ((await stdout) + (await stderr)).Trim());
    }

    /// <summary>Gives a directory to the service user when this process is root (the server must own PGDATA).</summary>
    public static async Task HandOverAsync(string directory, CancellationToken cancellationToken)
    {
        if (!RunsAsServiceUser)
        {
            return;
        }

        var start = new ProcessStartInfo("chown") { UseShellExecute = false, RedirectStandardError = true };
        foreach (var argument in (string[])["-R", "postgres:postgres", directory])
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new EmbeddedPostgresException("could not run chown");
        var error = await process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new EmbeddedPostgresException(
                $"running as root needs a 'postgres' system user to own the embedded cluster: chown {directory} failed: {error.Trim()}");
        }
    }

    private static string Runuser()
    {
        foreach (var candidate in (string[])["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser", "/bin/runuser"])
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new EmbeddedPostgresException(
            "running as root, the embedded cluster runs as the 'postgres' user through runuser (util-linux), which was not found");
    }
}
