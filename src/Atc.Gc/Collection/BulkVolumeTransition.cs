using Atc.Gc.Lifecycle;
using Atc.Gc.Model;

namespace Atc.Gc.Collection;

/// <summary>
/// A lifecycle transition applied to many volumes at once: the same from-states and guards as the
/// single-volume compare-and-set (both come from <see cref="VolumeTransition"/>), as a chunked
/// statement that claims its candidates with <c>FOR UPDATE SKIP LOCKED</c>.
/// </summary>
public static class BulkVolumeTransition
{
    /// <summary>The volume <c>v</c> is on a worker the collector works on (running, landing or retiring).</summary>
    public static string OnCollectableWorker { get; } =
        $"EXISTS (SELECT 1 FROM workers w WHERE w.name = v.worker_name AND {WorkerStates.CollectableSql("w")})";

    /// <summary>The chunked statement moving every volume that may take <paramref name="transition"/> and meets <paramref name="condition"/>.</summary>
    public static string Statement(VolumeTransition transition, string condition)
    {
        ArgumentNullException.ThrowIfNull(transition);
        var change = transition.DeletesRow
            ? "DELETE FROM volumes v USING candidate c WHERE v.id = c.id RETURNING v.id"
            : $"UPDATE volumes v SET state = '{transition.To.ToDb()}', state_changed_at = now() FROM candidate c WHERE v.id = c.id RETURNING v.id";
        return $"""
            WITH candidate AS (
                SELECT v.id
                FROM volumes v
                WHERE {transition.PredicateSql("v")}
                  AND {condition}
                  AND v.id > @after
                ORDER BY v.id
                LIMIT @limit
                FOR UPDATE OF v SKIP LOCKED
            ), changed AS (
                {change}
            )
            {ChunkedStatement.Tally}
            """;
    }
}
