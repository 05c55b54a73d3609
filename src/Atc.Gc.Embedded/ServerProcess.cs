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

    /// <summary>
    /// Gives the server what it needs — the data directory, the socket directory, the log file — when
    /// this process is root (the server must own PGDATA). Only these paths, never the embedded directory
    /// itself, which holds the worker token secret.
    /// </summary>
    public static async Task HandOverAsync(IReadOnlyList<string> paths, CancellationToken cancellationToken)
    {
        if (!RunsAsServiceUser)
        {
            return;
        }

        var start = new ProcessStartInfo("chown") { UseShellExecute = false, RedirectStandardError = true };
        foreach (var argument in (string[])["--no-dereference", "postgres:postgres", "--", .. paths])
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new EmbeddedPostgresException("could not run chown");
        var error = await process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new EmbeddedPostgresException(
                $"running as root needs a 'postgres' system user to own the embedded cluster: chown failed: {error.ReplaceLineEndings(" ").Trim()}");
        }
    }

    /// <summary>
    /// As root, lets the server user pass through the (root-owned, private) embedded directory to what it
    /// was given: execute permission for others, no read or write.
    /// </summary>
    public static async Task LetServerTraverseAsync(string directory, CancellationToken cancellationToken)
    {
        if (!RunsAsServiceUser)
        {
            return;
        }

        var mode = File.GetUnixFileMode(directory);
        if ((mode & UnixFileMode.OtherExecute) == 0)
        {
            File.SetUnixFileMode(directory, mode | UnixFileMode.OtherExecute);
        }

        // A directory above it may still stop the server user (a private home, a 0700 temporary directory).
        var reach = await RunAsync("test", ["-x", directory], cancellationToken);
        if (reach.ExitCode != 0)
        {
            // test prints nothing; runuser explains itself (no postgres user, say).
            throw new EmbeddedPostgresException(reach.Output.Length > 0
                ? $"running as root needs a 'postgres' system user to run the embedded cluster: {reach.Output.ReplaceLineEndings(" ")}"
                : $"the embedded directory {directory} is out of reach of the 'postgres' user the server runs as: a directory above it does not let others pass (chmod o+x), or choose another with {EmbeddedPostgresOptions.DirectoryVariable}");
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
