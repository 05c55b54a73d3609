namespace Atc.Gc.Benchmarks;

/// <summary>The sizes a benchmark run works at.</summary>
/// <param name="Scale">Total volumes of the main dataset (mark, hot path).</param>
/// <param name="Orphans">Orphans among them.</param>
/// <param name="Workers">Workers the volumes are spread over.</param>
/// <param name="ScalingSizes">Total volumes of the two scaling datasets, each with <paramref name="ScalingOrphans"/> orphans.</param>
/// <param name="MemorySizes">Total volumes of the memory datasets (10 % orphans each).</param>
/// <param name="ReclaimVolumes">Volumes deleted in the reclaim throughput run.</param>
/// <param name="ReclaimRounds">Cache invalidations timed in the reclaim latency run.</param>
/// <param name="ReclaimWorkers">Worker agents (loopback, real directories) in the reclaim runs.</param>
/// <param name="HotPathOperations">Create-volume and create-child pairs timed in each hot-path run.</param>
/// <param name="CowParentBytes">Sizes of the parents copy-on-write children are made of (each in <paramref name="CowFiles"/> files).</param>
/// <param name="ReportVolumes">Volumes on the worker in the report-cost runs (a small and a large worker).</param>
/// <param name="MaxReportBytes">The orchestrator's report limit in the report-memory run: every report is this large.</param>
/// <param name="CoordinationSeconds">How long each configuration of the coordination run is measured.</param>
public sealed record BenchOptions(
    int Scale,
    int Orphans,
    int Workers,
    int Seed,
    IReadOnlyList<int> ScalingSizes,
    int ScalingOrphans,
    IReadOnlyList<int> MemorySizes,
    int ReclaimVolumes,
    int ReclaimRounds,
    int ReclaimWorkers,
    int HotPathOperations,
    int Repeats,
    IReadOnlySet<string> Scenarios,
    string? PeerBench,
    IReadOnlyList<long>? CowParentBytes = null,
    int CowFiles = 10_000,
    IReadOnlyList<int>? ReportVolumes = null,
    long MaxReportBytes = 64L * 1024 * 1024,
    int CoordinationSeconds = 60)
{
    public static IReadOnlyList<string> AllScenarios { get; } = ["mark", "scaling", "reclaim", "hotpath", "memory", "cow", "reports", "reportmemory", "coordination", "disk"];

    /// <summary>The parents' sizes of the copy-on-write runs.</summary>
    public IReadOnlyList<long> CowSizes => CowParentBytes ?? [10L << 20, 100L << 20, 1L << 30];

    /// <summary>The workers' sizes of the report-cost runs.</summary>
    public IReadOnlyList<int> ReportSizes => ReportVolumes ?? [1_000, 100_000];

    public bool Runs(string scenario) => Scenarios.Contains(scenario);

    /// <summary>The full run the targets are stated for: a million volumes, 100k orphans, on 50 workers.</summary>
    public static BenchOptions Full(int seed, IReadOnlySet<string> scenarios, string? peerBench) => new(
        1_000_000, 100_000, 50, seed, [100_000, 1_000_000], 10_000, [10_000, 100_000, 1_000_000],
        20_000, 10, 4, 2_000, 5, scenarios, peerBench);

    /// <summary>A run small enough for the test suite: every scenario, tiny sizes.</summary>
    public static BenchOptions Smoke(int seed) => new(
        4_000, 400, 4, seed, [1_000, 4_000], 100, [1_000, 4_000], 300, 2, 2, 50, 1, AllScenarios.ToHashSet(), null,
        [64L << 10, 256L << 10], 20, [100, 1_000], 256L * 1024, CoordinationSeconds: 2);
}
