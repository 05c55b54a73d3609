using System.ComponentModel.DataAnnotations;
using Atc.Gc.Collection.DiskPressure;

namespace Atc.Gc.Collection;

/// <summary>How the collector runs. Bound from the <c>Collector</c> configuration section (<c>Collector__Interval</c> and so on).</summary>
public sealed class CollectorOptions : IValidatableObject
{
    public const string Section = "Collector";

    /// <summary>Time between passes when nothing signals a change.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Run a pass as soon as the database signals that something was deleted or released (LISTEN/NOTIFY).</summary>
    public bool ListenForChanges { get; set; } = true;

    /// <summary>How long to gather further change signals before a signalled pass starts.</summary>
    public TimeSpan SignalDebounce { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// The share of the wall clock a node's passes may take (containerd's pause threshold): after a
    /// pass that took <c>d</c>, the next waits until the budget has earned it back. Up to a second of
    /// passes may run back to back after an idle spell.
    /// </summary>
    [Range(0.001, 1.0)]
    public double MaxShareOfTime { get; set; } = 0.02;

    /// <summary>Rows one statement may change: locks stay short and memory flat on large tables.</summary>
    [Range(1, 100_000)]
    public int BatchSize { get; set; } = 5000;

    /// <summary>How long the latest failed build of a job keeps its containers and caches, for debugging.</summary>
    public TimeSpan FailedBuildGrace { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long a one-off build keeps its containers and caches after it ends.</summary>
    public TimeSpan OneOffBuildGrace { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long the image of a one-off build is kept after it ends (a job's images are kept until a
    /// later build of the job succeeds). Concourse keeps them for a day.
    /// </summary>
    public TimeSpan OneOffImageGrace { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long a check container (of a resource config, not a build) lives before it is recycled.</summary>
    public TimeSpan CheckContainerLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long an unreferenced resource config is kept after it was last referenced.</summary>
    public TimeSpan ResourceConfigGrace { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A running worker whose last heartbeat is older than this is stalled: nothing is sent to it and its volumes wait.</summary>
    public TimeSpan StallAfter { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// A volume is forgotten (its row removed) once this many of its worker's reports, each listed after
    /// it was marked missing, did not list it — counted in reports, not in time, so an outage of the
    /// orchestrator or of the worker never makes a volume "missing long enough". Only a volume with no
    /// owner and no child is ever forgotten.
    /// </summary>
    [Range(2, 1000)]
    public int MissingReports { get; set; } = 3;

    /// <summary>A volume or container still creating or initializing after this long has failed.</summary>
    public TimeSpan SetupTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a collector's claim on volumes it is deleting lasts; a dead collector's claims expire after it.</summary>
    public TimeSpan ClaimLease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Wait before retrying volumes a worker failed to delete; doubles with each failure, up to <see cref="MaxRetryBackoff"/>.</summary>
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan MaxRetryBackoff { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How soon to ask a worker again about a volume it is still removing (not a failure: no backoff, no attempt counted).</summary>
    public TimeSpan PendingRecheck { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Handles sent to a worker in one destroy request.</summary>
    [Range(1, Workers.VolumeProtocol.MaxHandlesPerDestroy)]
    public int DeleteBatchSize { get; set; } = 250;

    /// <summary>Workers whose volumes are deleted at the same time (each worker has its own deletion loop; a hung one holds one of these).</summary>
    [Range(1, 1024)]
    public int MaxConcurrentWorkers { get; set; } = 32;

    /// <summary>Destroy requests in flight to one worker at a time.</summary>
    [Range(1, 64)]
    public int MaxConcurrentRequestsPerWorker { get; set; } = 2;

    /// <summary>The health check (readiness) turns unhealthy when no pass has finished for this long.</summary>
    public TimeSpan StaleAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The health check turns unhealthy after this many passes in a row had a failing collector.</summary>
    [Range(1, 1000)]
    public int UnhealthyAfterFailedPasses { get; set; } = 3;

    /// <summary>Eviction of kept caches nobody uses when a worker's disk is under pressure (<c>Collector:DiskPressure</c>).</summary>
    public DiskPressureOptions DiskPressure { get; set; } = new();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var problem in DiskPressure.Validate(Section))
        {
            yield return problem;
        }

        foreach (var (name, value, minimum) in new (string, TimeSpan, TimeSpan)[]
                 {
                     (nameof(Interval), Interval, TimeSpan.FromMilliseconds(100)),
                     (nameof(StaleAfter), StaleAfter, TimeSpan.FromSeconds(1)),
                     (nameof(SignalDebounce), SignalDebounce, TimeSpan.Zero),
                     (nameof(FailedBuildGrace), FailedBuildGrace, TimeSpan.Zero),
                     (nameof(OneOffBuildGrace), OneOffBuildGrace, TimeSpan.Zero),
                     (nameof(OneOffImageGrace), OneOffImageGrace, TimeSpan.Zero),
                     (nameof(CheckContainerLifetime), CheckContainerLifetime, TimeSpan.FromSeconds(1)),
                     (nameof(ResourceConfigGrace), ResourceConfigGrace, TimeSpan.Zero),
                     (nameof(SetupTimeout), SetupTimeout, TimeSpan.FromSeconds(1)),
                     (nameof(StallAfter), StallAfter, TimeSpan.FromSeconds(1)),
                     (nameof(ClaimLease), ClaimLease, TimeSpan.FromSeconds(1)),
                     (nameof(RetryBackoff), RetryBackoff, TimeSpan.Zero),
                     (nameof(PendingRecheck), PendingRecheck, TimeSpan.Zero),
                 })
        {
            if (value < minimum)
            {
                yield return new ValidationResult($"{Section}:{name} must be at least {minimum} (it is {value})", [name]);
            }
        }

        if (MaxRetryBackoff < RetryBackoff)
        {
            yield return new ValidationResult($"{Section}:MaxRetryBackoff must not be shorter than {Section}:RetryBackoff", [nameof(MaxRetryBackoff)]);
        }
    }
}
