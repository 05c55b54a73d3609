namespace Atc.Gc.UnitTests;

/// <summary>A test that runs <c>systemd-analyze</c>: skipped, saying why, where it is not installed.</summary>
public sealed class SystemdAnalyzeFactAttribute : FactAttribute
{
    public SystemdAnalyzeFactAttribute()
    {
        if (Program is null)
        {
            Skip = "systemd-analyze is not installed (Debian package systemd; .ci/run installs it): the units in docs/deploy are not verified";
        }
    }

    /// <summary>systemd-analyze's path, from PATH or the usual places; null when it is nowhere.</summary>
    public static string? Program { get; } = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
        .Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Concat(["/usr/bin", "/bin"])
        .Select(dir => Path.Combine(dir, "systemd-analyze"))
        .FirstOrDefault(File.Exists);
}
