using System.Text.Json;
using Atc.Gc.Database;
using Dapper;
using Npgsql;

namespace Atc.Gc.Operations;

/// <summary>A cache that could not be cleared, and why (a running build uses it, a custom type's image is it).</summary>
public sealed record KeptCache(long CacheId, string Version, string Reason);

/// <param name="Caches">Caches deleted.</param>
/// <param name="Volumes">Volumes those caches held, now orphans the collector reclaims.</param>
/// <param name="Kept">Caches left alone, each with its reason.</param>
public sealed record ClearResourceCacheResult(int Caches, int Volumes, IReadOnlyList<KeptCache> Kept);

/// <param name="TaskCaches">Task caches deleted.</param>
/// <param name="Volumes">Volumes they held, now orphans.</param>
public sealed record ClearTaskCacheResult(int TaskCaches, int Volumes);

/// <summary>
/// Operators invalidating caches (a bad fetch, a poisoned task cache). Deleting a cache orphans its
/// volumes through the foreign keys and signals the collector, which reclaims them at once. Every
/// operation runs in one transaction and checks its names first: an unknown pipeline, resource or
/// job changes nothing.
/// </summary>
public sealed class CacheInvalidation(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// Clears the caches of a resource (one version when <paramref name="versionJson"/> is given).
    /// Uses by finished builds and by the resource itself are dropped; a cache a running build still
    /// uses, or the image of a custom resource type, is kept and reported.
    /// </summary>
    public async Task<ClearResourceCacheResult> ClearResourceCacheAsync(
        string pipeline, string resource, string? versionJson = null, CancellationToken cancellationToken = default)
    {
        if (versionJson is not null)
        {
            RequireJsonObject(versionJson);
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var pipelineId = await RequirePipelineAsync(connection, transaction, pipeline, cancellationToken);
        var configId = await connection.QuerySingleOrDefaultAsync<(long Id, long? ConfigId)?>(Sql.Command(
            "SELECT id, resource_config_id FROM resources WHERE pipeline_id = @pipelineId AND name = @resource",
            new { pipelineId, resource }, cancellationToken, transaction))
            ?? throw new OperatorException($"pipeline '{pipeline}' has no resource '{resource}'");

        var parameters = new { config = configId.ConfigId, version = versionJson };
        await connection.ExecuteAsync(Sql.Command(
            """
            CREATE TEMP TABLE target ON COMMIT DROP AS
            SELECT c.id, c.version::text AS version,
                   (SELECT string_agg(format('used by running build %s of %s/%s', b.id, p.name, j.name), '; ' ORDER BY b.id)
                    FROM resource_cache_uses u JOIN builds b ON b.id = u.build_id
                    LEFT JOIN jobs j ON j.id = b.job_id LEFT JOIN pipelines p ON p.id = j.pipeline_id
                    WHERE u.resource_cache_id = c.id AND NOT b.completed) AS running,
                   (SELECT string_agg(format('the image of custom resource type config %s', rc.id), '; ')
                    FROM resource_configs rc WHERE rc.resource_cache_id = c.id) AS image
            FROM resource_caches c
            WHERE c.resource_config_id = @config AND (@version::jsonb IS NULL OR c.version = @version::jsonb)
            FOR UPDATE OF c
            """, parameters, cancellationToken, transaction));

        var kept = (await connection.QueryAsync<KeptCache>(Sql.Command(
            "SELECT id AS cache_id, version, concat_ws('; ', running, image) AS reason FROM target WHERE running IS NOT NULL OR image IS NOT NULL ORDER BY id",
            null, cancellationToken, transaction))).AsList();
        var volumes = await connection.ExecuteScalarAsync<int>(Sql.Command(
            "SELECT count(*) FROM volumes v JOIN target t ON t.id = v.resource_cache_id WHERE t.running IS NULL AND t.image IS NULL",
            null, cancellationToken, transaction));
        await connection.ExecuteAsync(Sql.Command(
            "DELETE FROM resource_cache_uses u USING target t WHERE u.resource_cache_id = t.id AND t.running IS NULL AND t.image IS NULL",
            null, cancellationToken, transaction));
        var caches = await connection.ExecuteAsync(Sql.Command(
            "DELETE FROM resource_caches c USING target t WHERE c.id = t.id AND t.running IS NULL AND t.image IS NULL",
            null, cancellationToken, transaction));
        await transaction.CommitAsync(cancellationToken);
        return new ClearResourceCacheResult(caches, volumes, kept);
    }

    /// <summary>Clears the task caches of a job's step (one path when <paramref name="path"/> is given).</summary>
    public async Task<ClearTaskCacheResult> ClearTaskCacheAsync(
        string pipeline, string job, string step, string? path = null, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var pipelineId = await RequirePipelineAsync(connection, transaction, pipeline, cancellationToken);
        var jobId = await connection.QuerySingleOrDefaultAsync<long?>(Sql.Command(
            "SELECT id FROM jobs WHERE pipeline_id = @pipelineId AND name = @job", new { pipelineId, job }, cancellationToken, transaction))
            ?? throw new OperatorException($"pipeline '{pipeline}' has no job '{job}'");

        var parameters = new { jobId, step, path };
        var volumes = await connection.ExecuteScalarAsync<int>(Sql.Command(
            """
            SELECT count(*) FROM volumes v JOIN task_caches t ON t.id = v.task_cache_id
            WHERE t.job_id = @jobId AND t.step_name = @step AND (@path::text IS NULL OR t.path = @path)
            """, parameters, cancellationToken, transaction));
        var cleared = await connection.ExecuteAsync(Sql.Command(
            "DELETE FROM task_caches WHERE job_id = @jobId AND step_name = @step AND (@path::text IS NULL OR path = @path)",
            parameters, cancellationToken, transaction));
        await transaction.CommitAsync(cancellationToken);
        return new ClearTaskCacheResult(cleared, volumes);
    }

    private static async Task<long> RequirePipelineAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string pipeline, CancellationToken cancellationToken) =>
        await connection.QuerySingleOrDefaultAsync<long?>(Sql.Command(
            "SELECT id FROM pipelines WHERE name = @pipeline", new { pipeline }, cancellationToken, transaction))
        ?? throw new OperatorException($"no pipeline named '{pipeline}'");

    private static void RequireJsonObject(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new OperatorException($"the version must be a JSON object like {{\"ref\":\"abc\"}}, not {document.RootElement.ValueKind.ToString().ToLowerInvariant()}");
            }
        }
        catch (JsonException ex)
        {
            throw new OperatorException($"the version is not valid JSON: {ex.Message}", ex);
        }
    }
}
