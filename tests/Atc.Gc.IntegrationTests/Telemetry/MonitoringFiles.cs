using System.Text.RegularExpressions;

namespace Atc.Gc.IntegrationTests.Telemetry;

/// <summary>The alert rules and the dashboard shipped in <c>docs/monitoring/</c>, and the metric names they use.</summary>
public static partial class MonitoringFiles
{
    public static string Directory { get; } = Path.Combine(RepositoryRoot(), "docs", "monitoring");

    public static string AlertRules => Path.Combine(Directory, "atc-gc-alerts.yml");

    public static string Dashboard => Path.Combine(Directory, "atc-gc-dashboard.json");

    /// <summary>The <c>atc_gc_…</c> series the rules' expressions and the dashboard's queries name.</summary>
    public static IReadOnlySet<string> MetricNamesUsed() =>
        new[] { AlertRules, Dashboard }
            .SelectMany(file => MetricName().Matches(File.ReadAllText(file)).Select(m => m.Value))
            .ToHashSet(StringComparer.Ordinal);

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Atc.Gc.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("the repository root (Atc.Gc.sln) is not above " + AppContext.BaseDirectory);
    }

    // Series names only: not alert names (AtcGc…), not label names (atc_gc_worker, atc_gc_state, …).
    [GeneratedRegex(@"\batc_gc_(?!worker\b|state\b|collector\b|outcome\b|loop\b)[a-z0-9_]*[a-z0-9]\b")]
    private static partial Regex MetricName();
}
