using Atc.Gc.Database;
using Npgsql;

namespace Atc.Gc.Scheduling;

/// <summary>Pipelines, their jobs, resources and resource types, and what the next build of a job will fetch.</summary>
public sealed class PipelineRepository(NpgsqlDataSource dataSource)
{
    /// <summary>Finds or creates a pipeline by name and returns its id.</summary>
    public Task<long> EnsurePipelineAsync(string name, CancellationToken cancellationToken = default) => dataSource.ScalarAsync<long>(
        """
        INSERT INTO pipelines (name) VALUES (@name)
        ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
        RETURNING id
        """, new { name = RequireName(name) }, cancellationToken);

    /// <summary>Finds or creates a job of a pipeline (marking it active again) and returns its id.</summary>
    public Task<long> EnsureJobAsync(long pipelineId, string name, CancellationToken cancellationToken = default) => dataSource.ScalarAsync<long>(
        """
        INSERT INTO jobs (pipeline_id, name) VALUES (@pipelineId, @name)
        ON CONFLICT (pipeline_id, name) DO UPDATE SET active = true
        RETURNING id
        """, new { pipelineId, name = RequireName(name) }, cancellationToken);

    /// <summary>Finds or creates a resource of a pipeline, pointing it at a resource config, and returns its id.</summary>
    public Task<long> EnsureResourceAsync(long pipelineId, string name, long? resourceConfigId, CancellationToken cancellationToken = default) => dataSource.ScalarAsync<long>(
        """
        INSERT INTO resources (pipeline_id, name, resource_config_id) VALUES (@pipelineId, @name, @resourceConfigId)
        ON CONFLICT (pipeline_id, name) DO UPDATE SET resource_config_id = EXCLUDED.resource_config_id, active = true
        RETURNING id
        """, new { pipelineId, name = RequireName(name), resourceConfigId }, cancellationToken);

    /// <summary>Finds or creates a custom resource type of a pipeline, pointing it at a resource config, and returns its id.</summary>
    public Task<long> EnsureResourceTypeAsync(long pipelineId, string name, long? resourceConfigId, CancellationToken cancellationToken = default) => dataSource.ScalarAsync<long>(
        """
        INSERT INTO resource_types (pipeline_id, name, resource_config_id) VALUES (@pipelineId, @name, @resourceConfigId)
        ON CONFLICT (pipeline_id, name) DO UPDATE SET resource_config_id = EXCLUDED.resource_config_id, active = true
        RETURNING id
        """, new { pipelineId, name = RequireName(name), resourceConfigId }, cancellationToken);

    /// <summary>
    /// Records the version (as a resource cache) the next build of a job will fetch for an input. The
    /// cache is kept while the job is active and its pipeline unpaused. A cache the collector deleted
    /// first comes back as <see cref="PinOutcome.CacheGone"/>; a pin that succeeded is never lost to a
    /// concurrent collection.
    /// </summary>
    public async Task<PinResult> SetNextBuildInputAsync(long jobId, string inputName, long resourceCacheId, CancellationToken cancellationToken = default)
    {
        var parameters = new { jobId, inputName = RequireName(inputName), resourceCacheId };
        try
        {
            await dataSource.ExecuteAsync(
                """
                INSERT INTO next_build_inputs (job_id, input_name, resource_cache_id) VALUES (@jobId, @inputName, @resourceCacheId)
                ON CONFLICT (job_id, input_name) DO UPDATE SET resource_cache_id = EXCLUDED.resource_cache_id
                """, parameters, cancellationToken);
            return PinResult.Pinned;
        }
        catch (PostgresException ex) when (ex.IsForeignKeyViolation("next_build_inputs_resource_cache_id_fkey"))
        {
            return new PinResult(PinOutcome.CacheGone, $"resource cache {resourceCacheId} does not exist");
        }
        catch (PostgresException ex) when (ex.IsForeignKeyViolation("next_build_inputs_job_id_fkey"))
        {
            return new PinResult(PinOutcome.HolderGone, $"job {jobId} does not exist");
        }
    }

    public Task<bool> SetPipelinePausedAsync(long pipelineId, bool paused, CancellationToken cancellationToken = default) => dataSource.UpdatesOneAsync(
        "UPDATE pipelines SET paused = @paused WHERE id = @pipelineId", new { pipelineId, paused }, cancellationToken);

    /// <summary>Archives a pipeline: it is paused for good and its task caches become collectable.</summary>
    public Task<bool> ArchivePipelineAsync(long pipelineId, CancellationToken cancellationToken = default) => dataSource.UpdatesOneAsync(
        "UPDATE pipelines SET archived = true, paused = true WHERE id = @pipelineId", new { pipelineId }, cancellationToken);

    /// <summary>Marks a job as removed from its pipeline's configuration.</summary>
    public Task<bool> DeactivateJobAsync(long jobId, CancellationToken cancellationToken = default) => dataSource.UpdatesOneAsync(
        "UPDATE jobs SET active = false WHERE id = @jobId", new { jobId }, cancellationToken);

    private static string RequireName(string name) => string.IsNullOrWhiteSpace(name)
        ? throw new ArgumentException("a name is required", nameof(name))
        : name;
}
