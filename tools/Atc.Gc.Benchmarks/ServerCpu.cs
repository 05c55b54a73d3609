using System.Globalization;
using Npgsql;

namespace Atc.Gc.Benchmarks;

/// <summary>
/// The CPU time a PostgreSQL server on this machine has used: its postmaster's own and reaped
/// children's time, plus every live child's (backends, parallel workers, autovacuum) — read from /proc.
/// </summary>
public sealed class ServerCpu
{
    private const double TicksPerSecond = 100; // Linux's USER_HZ
    private readonly int postmaster;

    private ServerCpu(int postmaster) => this.postmaster = postmaster;

    /// <summary>The server behind <paramref name="dataSource"/>, or null when it does not run on this machine (or its files cannot be read).</summary>
    public static async Task<ServerCpu?> FindAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT setting FROM pg_settings WHERE name = 'data_directory'");
        if (await command.ExecuteScalarAsync(cancellationToken) is not string directory)
        {
            return null;
        }

        var pidFile = Path.Combine(directory, "postmaster.pid");
        try
        {
            var pid = int.Parse(File.ReadLines(pidFile).First(), CultureInfo.InvariantCulture);
            return File.ReadAllText($"/proc/{pid}/comm").Trim() == "postgres" ? new ServerCpu(pid) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>Seconds of CPU (user and system) the server has used so far.</summary>
    public double Seconds()
    {
        var own = Fields(postmaster) ?? throw new InvalidOperationException($"the PostgreSQL server (pid {postmaster}) is gone");
        long ticks = own.User + own.System + own.ChildrenUser + own.ChildrenSystem;
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && pid != postmaster && Fields(pid) is { } child && child.Parent == postmaster)
            {
                ticks += child.User + child.System;
            }
        }

        return ticks / TicksPerSecond;
    }

    private static (int Parent, long User, long System, long ChildrenUser, long ChildrenSystem)? Fields(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null; // it exited meanwhile: its time is in its parent's children's time now
        }

        // pid (comm) state ppid ... utime stime cutime cstime: the name may hold spaces, so split after it.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long At(int index) => long.Parse(fields[index], CultureInfo.InvariantCulture);
        return ((int)At(1), At(11), At(12), At(13), At(14));
    }
}
