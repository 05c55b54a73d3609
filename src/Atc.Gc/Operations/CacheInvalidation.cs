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
/// <param name="Volumes">Volumes they held, released for collection.</param>
/// <param name="Mounted">Of those, volumes a container still has mounted: collected once their builds are done.</param>
public sealed record ClearTaskCacheResult(int TaskCaches, int Volumes, int Mounted = 0);

/// <summary>
/// Operators invalidating caches (a bad fetch, a poisoned task cache). Deleting a cache orphans its
/// volumes through the foreign keys and signals the collector, which reclaims them at once. Every
/// operation runs in one transaction and checks its names first: an unknown pipeline, resource or
/// job changes nothing. It locks the caches before deciding what to keep, so a use, a pin or a
/// mount that a scheduler commits at the same moment is either seen (and kept) or waits for the
/// clear and then finds the cache gone — never silently lost.
/// </summary>
public sealed class CacheInvalidation(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// Clears the caches of a resource (one version when <paramref name="versionJson"/> is given).
    /// Uses by finished builds and by the resource itself, next build inputs and images of finished
    /// builds are dropped with them; a cache a running build uses, the image of a running build, or the
    /// image of a custom resource type, is kept and reported with the reason.
    /// </summary>
    public Task<ClearResourceCacheResult> ClearResourceCacheAsync(
        string pipeline, string resource, string? versionJson = null, CancellationToken cancellationToken = default) =>
        ClearResourceCacheAsync(pipeline, resource, versionJson, dryRun: false, cancellationToken);

    /// <summary>As the overload without <paramref name="dryRun"/>; with it, decides and counts the same way and then rolls back: what a clear would do, nothing changed.</summary>
    public async Task<ClearResourceCacheResult> ClearResourceCacheAsync(
        string pipeline, string resource, string? versionJson, bool dryRun, CancellationToken cancellationToken)
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

        // Lock first: a use, a next build input or an image (foreign keys) and a cache upsert (a row
        // update) all need a lock these conflict with. The statements after this one take snapshots
        // that see everything committed before the locks were granted; nothing new can arrive.
        var ids = (await connection.QueryAsync<long>(Sql.Command(
            """
            SELECT c.id FROM resource_caches c
            WHERE c.resource_config_id = @config AND (@version::jsonb IS NULL OR c.version = @version::jsonb)
            ORDER BY c.id
            FOR UPDATE
            """, parameters, cancellationToken, transaction))).ToArray();

        await connection.ExecuteAsync(Sql.Command(
            """
            CREATE TEMP TABLE target ON COMMIT DROP AS
            SELECT c.id, c.version::text AS version,
                   (SELECT string_agg(format('used by running build %s%s', b.id, coalesce(' of ' || p.name || '/' || j.name, ' (one-off)')), '; ' ORDER BY b.id)
                    FROM resource_cache_uses u JOIN builds b ON b.id = u.build_id
                    LEFT JOIN jobs j ON j.id = b.job_id LEFT JOIN pipelines p ON p.id = j.pipeline_id
                    WHERE u.resource_cache_id = c.id AND NOT b.completed) AS running,
                   (SELECT string_agg(format('the image of running build %s', b.id), '; ' ORDER BY b.id)
                    FROM image_resource_versions i JOIN builds b ON b.id = i.build_id
                    WHERE i.resource_cache_id = c.id AND NOT b.completed) AS running_image,
                   (SELECT string_agg(format('the image of custom resource type config %s', rc.id), '; ')
                    FROM resource_configs rc WHERE rc.resource_cache_id = c.id) AS image
            FROM resource_caches c
            WHERE c.id = ANY(@ids)
            """, new { ids }, cancellationToken, transaction));

        const string Cleared = "t.running IS NULL AND t.running_image IS NULL AND t.image IS NULL";
        var kept = (await connection.QueryAsync<KeptCache>(Sql.Command(
            $"SELECT id AS cache_id, version, concat_ws('; ', running, running_image, image) AS reason FROM target t WHERE NOT ({Cleared}) ORDER BY id",
            null, cancellationToken, transaction))).AsList();
        var volumes = await connection.ExecuteScalarAsync<int>(Sql.Command(
            $"SELECT count(*) FROM volumes v JOIN target t ON t.id = v.resource_cache_id WHERE {Cleared}",
            null, cancellationToken, transaction));
        var caches = await connection.ExecuteScalarAsync<int>(Sql.Command(
            $"""
            WITH cleared AS (SELECT t.id FROM target t WHERE {Cleared}),
            uses AS (DELETE FROM resource_cache_uses u USING cleared c WHERE u.resource_cache_id = c.id),
            inputs AS (DELETE FROM next_build_inputs n USING cleared c WHERE n.resource_cache_id = c.id),
            images AS (DELETE FROM image_resource_versions i USING cleared c WHERE i.resource_cache_id = c.id),
            deleted AS (DELETE FROM resource_caches r USING cleared c WHERE r.id = c.id RETURNING r.id)
            SELECT count(*) FROM deleted
            """, null, cancellationToken, transaction));
        await EndAsync(transaction, dryRun, cancellationToken);
        return new ClearResourceCacheResult(caches, volumes, kept);
    }

    /// <summary>
    /// Clears the task caches of a job's step (one path when <paramref name="path"/> is given). Their
    /// volumes are released; one a running build has mounted stays owned by the build's container and
    /// is collected when the build is done.
    /// </summary>
    public Task<ClearTaskCacheResult> ClearTaskCacheAsync(
        string pipeline, string job, string step, string? path = null, CancellationToken cancellationToken = default) =>
        ClearTaskCacheAsync(pipeline, job, step, path, dryRun: false, cancellationToken);

    /// <summary>As the overload without <paramref name="dryRun"/>; with it, counts the same way and then rolls back.</summary>
    public async Task<ClearTaskCacheResult> ClearTaskCacheAsync(
        string pipeline, string job, string step, string? path, bool dryRun, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var pipelineId = await RequirePipelineAsync(connection, transaction, pipeline, cancellationToken);
        var jobId = await connection.QuerySingleOrDefaultAsync<long?>(Sql.Command(
            "SELECT id FROM jobs WHERE pipeline_id = @pipelineId AND name = @job", new { pipelineId, job }, cancellationToken, transaction))
            ?? throw new OperatorException($"pipeline '{pipeline}' has no job '{job}'");

        var parameters = new { jobId, step, path };

        // Lock first (a use bumps last_used, which conflicts), then count and delete with fresh snapshots.
        var ids = (await connection.QueryAsync<long>(Sql.Command(
            """
            SELECT id FROM task_caches
            WHERE job_id = @jobId AND step_name = @step AND (@path::text IS NULL OR path = @path)
            ORDER BY id
            FOR UPDATE
            """, parameters, cancellationToken, transaction))).ToArray();
        var (volumes, mounted) = await connection.QuerySingleAsync<(int, int)>(Sql.Command(
            "SELECT count(*)::int, (count(*) FILTER (WHERE container_id IS NOT NULL))::int FROM volumes WHERE task_cache_id = ANY(@ids)",
            new { ids }, cancellationToken, transaction));
        var cleared = await connection.ExecuteAsync(Sql.Command(
            "DELETE FROM task_caches WHERE id = ANY(@ids)", new { ids }, cancellationToken, transaction));
        await EndAsync(transaction, dryRun, cancellationToken);
        return new ClearTaskCacheResult(cleared, volumes, mounted);
    }

    /// <summary>Commits, or for a dry run rolls back (no row changes, no signal to the collector).</summary>
    private static Task EndAsync(NpgsqlTransaction transaction, bool dryRun, CancellationToken cancellationToken) =>
        dryRun ? transaction.RollbackAsync(cancellationToken) : transaction.CommitAsync(cancellationToken);

    private static async Task<long> RequirePipelineAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string pipeline, CancellationToken cancellationToken) =>
        await connection.QuerySingleOrDefaultAsync<long?>(Sql.Command(
            "SELECT id FROM pipelines WHERE name = @pipeline", new { pipeline }, cancellationToken, transaction))
        ?? throw new OperatorException($"no pipeline named '{pipeline}'");

    /// <summary>The longest JSON number accepted in a version, and the largest exponent (PostgreSQL's numeric allows ±1000).</summary>
    private const int MaxNumberLength = 64;
    private const int MaxExponent = 1000;

    /// <summary>
    /// What <c>jsonb</c> cannot hold is refused here, with a clear message, rather than by the
    /// database: U+0000 in a string or a key, a number outside PostgreSQL's numeric range.
    /// </summary>
    private static void RequireStorableJson(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    RequireNoNul(property.Name);
                    RequireStorableJson(property.Value);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    RequireStorableJson(item);
                }

                break;
            case JsonValueKind.String:
                RequireNoNul(element.GetString()!);
                break;
            case JsonValueKind.Number:
                var text = element.GetRawText();
                var e = text.IndexOfAny(['e', 'E']);
                var exponentOk = e < 0 || (int.TryParse(text.AsSpan(e + 1), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var exponent)
                    && Math.Abs(exponent) <= MaxExponent);
                if (text.Length > MaxNumberLength || !exponentOk)
                {
                    throw new OperatorException(
                        $"the version holds a number the database cannot store ({Model.Excerpt.Of(text, 40)}): at most {MaxNumberLength} characters and an exponent within ±{MaxExponent}");
                }

                break;
        }
    }

    private static void RequireNoNul(string text)
    {
        if (text.Contains('\0', StringComparison.Ordinal))
        {
            throw new OperatorException("the version holds U+0000 (\\u0000), which the database cannot store");
        }
    }

    private static void RequireJsonObject(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new OperatorException($"the version must be a JSON object like {{\"ref\":\"abc\"}}, not {document.RootElement.ValueKind.ToString().ToLowerInvariant()}");
            }

            RequireStorableJson(document.RootElement);
        }
        catch (JsonException ex)
        {
            throw new OperatorException($"the version is not valid JSON: {ex.Message}", ex);
        }
    }
}
