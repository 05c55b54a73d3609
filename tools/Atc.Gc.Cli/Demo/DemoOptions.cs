namespace Atc.Gc.Cli.Demo;

/// <summary>How long the demo schedules builds and when its events happen (fractions of the build phase).</summary>
internal sealed record DemoOptions(TimeSpan BuildPhase, int Workers, int Concurrency, int Seed, bool Quick)
{
    public TimeSpan ClearCacheAt => BuildPhase * 0.30;

    public TimeSpan LandAt => BuildPhase * 0.45;

    public TimeSpan KillAt => BuildPhase * 0.55;

    public TimeSpan RestartAt => BuildPhase * 0.80;

    public TimeSpan ProgressEvery => Quick ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(2);

    /// <summary>How often each pipeline's repository gets a new commit (a new version, so new caches).</summary>
    public TimeSpan CommitEvery => Quick ? TimeSpan.FromSeconds(2) : TimeSpan.FromSeconds(6);

    public (int Min, int Max) BuildMilliseconds => Quick ? (200, 900) : (500, 2500);

    /// <summary>How long to wait, after the builds end, for the system to settle before the check.</summary>
    public TimeSpan SettleTimeout => Quick ? TimeSpan.FromSeconds(30) : TimeSpan.FromSeconds(40);
}
