namespace Atc.Gc.Collection.Collectors;

/// <summary>
/// Decides which completed builds no longer need their containers and caches, and marks them
/// released (<c>builds.released_at</c>); the collectors after it act on released builds. Kept:
/// the latest completed build of a job when it did not succeed (failed, errored or aborted, as
/// Concourse keeps any non-succeeded latest build), for <see cref="CollectorOptions.FailedBuildGrace"/>
/// (so it can be debugged), and a one-off build for <see cref="CollectorOptions.OneOffBuildGrace"/> after it ended.
/// Running builds are never released.
/// </summary>
public sealed class BuildCollector : ChunkedCollector
{
    public override string Name => "builds";

    protected override string Statement => ReleaseBuilds;

    protected override object? Parameters(CollectorOptions options) => new
    {
        failedGraceSeconds = options.FailedBuildGrace.TotalSeconds,
        oneOffGraceSeconds = options.OneOffBuildGrace.TotalSeconds,
    };

    private const string ReleaseBuilds =
        $"""
        WITH candidate AS (
            SELECT b.id, b.job_id, b.status, coalesce(b.ended_at, b.created_at) AS ended_at
            FROM builds b
            WHERE b.completed AND b.released_at IS NULL AND b.id > @after
            ORDER BY b.id
            LIMIT @limit
            FOR UPDATE SKIP LOCKED
        ), changed AS (
            UPDATE builds b SET released_at = now()
            FROM candidate c
            WHERE b.id = c.id
              AND NOT (c.job_id IS NULL AND c.ended_at > now() - @oneOffGraceSeconds * interval '1 second')
              AND NOT (c.job_id IS NOT NULL
                       AND c.status <> 'succeeded'
                       AND c.ended_at > now() - @failedGraceSeconds * interval '1 second'
                       AND NOT EXISTS (SELECT 1 FROM builds later
                                       WHERE later.job_id = c.job_id AND later.completed AND later.id > c.id))
            RETURNING b.id
        )
        {ChunkedStatement.Tally}
        """;
}
