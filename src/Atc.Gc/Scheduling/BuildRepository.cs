using Atc.Gc.Database;
using Atc.Gc.Model;
using Npgsql;

namespace Atc.Gc.Scheduling;

/// <summary>Builds of jobs (and one-off builds), from pending to a terminal status.</summary>
public sealed class BuildRepository(NpgsqlDataSource dataSource)
{
    /// <summary>Creates a pending build of a job, or a one-off build when <paramref name="jobId"/> is null.</summary>
    public Task<long> CreateAsync(long? jobId, CancellationToken cancellationToken = default) => dataSource.ScalarAsync<long>(
        """
        INSERT INTO builds (job_id, name)
        VALUES (@jobId, (SELECT count(*) + 1 FROM builds WHERE job_id IS NOT DISTINCT FROM @jobId)::text)
        RETURNING id
        """, new { jobId }, cancellationToken);

    /// <summary>pending → started. False when the build is not pending.</summary>
    public Task<bool> StartAsync(long buildId, CancellationToken cancellationToken = default) => dataSource.UpdatesOneAsync(
        "UPDATE builds SET status = 'started', started_at = now() WHERE id = @buildId AND status = 'pending'",
        new { buildId }, cancellationToken);

    /// <summary>
    /// Finishes a build with a terminal status. False when it is unknown or already finished (the
    /// first finish wins). What it held is released by the collector's builds rules.
    /// </summary>
    public Task<bool> FinishAsync(long buildId, BuildStatus status, CancellationToken cancellationToken = default)
    {
        if (!status.IsTerminal())
        {
            throw new ArgumentException($"{status} does not finish a build: use succeeded, failed, errored or aborted", nameof(status));
        }

        return dataSource.UpdatesOneAsync(
            """
            UPDATE builds
            SET status = @status::build_status, ended_at = now(), started_at = coalesce(started_at, now())
            WHERE id = @buildId AND NOT completed
            """, new { buildId, status = status.ToDb() }, cancellationToken);
    }

    /// <summary>
    /// Records the resource cache holding the build's image. It is kept while the build runs, then
    /// while no later build of its job has succeeded (a one-off build's, for a grace). A cache the
    /// collector deleted first comes back as <see cref="PinOutcome.CacheGone"/>.
    /// </summary>
    public async Task<PinResult> SetImageAsync(long buildId, long resourceCacheId, CancellationToken cancellationToken = default)
    {
        try
        {
            await dataSource.ExecuteAsync(
                """
                INSERT INTO image_resource_versions (build_id, resource_cache_id) VALUES (@buildId, @resourceCacheId)
                ON CONFLICT (build_id) DO UPDATE SET resource_cache_id = EXCLUDED.resource_cache_id
                """, new { buildId, resourceCacheId }, cancellationToken);
            return PinResult.Pinned;
        }
        catch (PostgresException ex) when (ex.IsForeignKeyViolation("image_resource_versions_resource_cache_id_fkey"))
        {
            return new PinResult(PinOutcome.CacheGone, $"resource cache {resourceCacheId} does not exist");
        }
        catch (PostgresException ex) when (ex.IsForeignKeyViolation("image_resource_versions_build_id_fkey"))
        {
            return new PinResult(PinOutcome.HolderGone, $"build {buildId} does not exist");
        }
    }
}
