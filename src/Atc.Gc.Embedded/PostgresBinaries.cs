namespace Atc.Gc.Embedded;

/// <summary>A directory holding the PostgreSQL server programs <c>initdb</c>, <c>pg_ctl</c> and <c>postgres</c>.</summary>
public sealed record PostgresBinaries(string Directory, int MajorVersion)
{
    private static readonly string[] Required = ["initdb", "pg_ctl", "postgres"];

    public string InitDb => Path.Combine(Directory, "initdb");

    public string PgCtl => Path.Combine(Directory, "pg_ctl");

    /// <summary>The one line shown when no server binaries exist on this machine.</summary>
    public const string InstallHint =
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH or under " +
        "/usr/lib/postgresql/*/bin: install them (Debian/Ubuntu: apt-get install postgresql) " +
        "or set ATC_GC_DATABASE to the connection string of a running server";

    /// <summary>
    /// Finds the server binaries: first a directory on PATH that holds all three programs, then the
    /// newest <c>/usr/lib/postgresql/N/bin</c>. <c>pg_ctl</c> starts the <c>postgres</c> next to it, so a
    /// directory only counts when it holds all three.
    /// </summary>
    public static PostgresBinaries Locate(string? path = null, string packageRoot = "/usr/lib/postgresql")
    {
        var onPath = (path ?? Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        foreach (var dir in onPath)
        {
            if (HoldsAll(dir))
            {
                return new PostgresBinaries(dir, ReadMajorVersion(dir));
            }
        }

        if (System.IO.Directory.Exists(packageRoot))
        {
            var newest = System.IO.Directory.EnumerateDirectories(packageRoot)
                .Select(d => (Dir: Path.Combine(d, "bin"), Major: int.TryParse(Path.GetFileName(d), out var m) ? m : -1))
                .Where(c => c.Major > 0 && HoldsAll(c.Dir))
                .OrderByDescending(c => c.Major)
                .FirstOrDefault();
            if (newest.Dir is not null)
            {
                return new PostgresBinaries(newest.Dir, newest.Major);
            }
        }

        throw new EmbeddedPostgresException(InstallHint);
    }

    private static bool HoldsAll(string dir) => Required.All(name => File.Exists(Path.Combine(dir, name)));

    /// <summary>The major version printed by <c>pg_ctl --version</c> ("pg_ctl (PostgreSQL) 15.18" gives 15).</summary>
    private static int ReadMajorVersion(string dir)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(Path.Combine(dir, "pg_ctl"), "--version")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        }) ?? throw new EmbeddedPostgresException($"could not run {Path.Combine(dir, "pg_ctl")}");
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var version = output.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? string.Empty;
        return int.TryParse(version.Split('.')[0], out var major) ? major : 0;
    }
}
