using Atc.Gc.Lifecycle;
using Atc.Gc.Model;

namespace Atc.Gc.Collection.Collectors;

/// <summary>
/// Forgets volumes their worker lost: missing (not reported) for longer than
/// <see cref="CollectorOptions.MissingGrace"/> on a worker that still reports — the lifecycle's
/// <see cref="VolumeTrigger.Forget"/> — together with their copy-on-write descendants, in one
/// statement (the parent foreign key allows a parent and its children to go together).
/// </summary>
public sealed class MissingVolumeCollector : ChunkedCollector
{
    private static readonly VolumeTransition Forget = VolumeTransitions.For(VolumeTrigger.Forget);

    public override string Name => "missing-volumes";

    protected override string Statement => ForgetMissingVolumes;

    protected override object? Parameters(CollectorOptions options) => new { graceSeconds = options.MissingGrace.TotalSeconds };

    private static readonly string ForgetMissingVolumes =
        $"""
        WITH RECURSIVE candidate AS (
            SELECT v.id
            FROM volumes v
            WHERE {Forget.PredicateSql("v")}
              AND v.missing_since < now() - @graceSeconds * interval '1 second'
              AND EXISTS (SELECT 1 FROM workers w WHERE w.name = v.worker_name AND {WorkerStates.CollectableSql("w")})
              AND v.id > @after
            ORDER BY v.id
            LIMIT @limit
            FOR UPDATE OF v SKIP LOCKED
        ), subtree AS (
            SELECT id FROM candidate
            UNION
            SELECT c.id FROM volumes c JOIN subtree s ON c.parent_id = s.id
        ), changed AS (
            DELETE FROM volumes v USING subtree s WHERE v.id = s.id
            RETURNING v.id
        )
        {ChunkedStatement.Tally}
        """;
}
