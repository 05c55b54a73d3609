using System.Text.Json;
using Atc.Gc.Database;
using Npgsql;

namespace Atc.Gc.Scheduling;

/// <summary>A <c>resource_caches</c> row: one version of a resource config fetched with some params.</summary>
public sealed record ResourceCache(long Id, long ResourceConfigId, string Version, string VersionDigest, string ParamsHash);

/// <summary>Who holds a resource cache use: a build, or a resource or resource type on its own behalf.</summary>
public sealed record CacheUser(long? BuildId = null, long? ResourceId = null, long? ResourceTypeId = null)
{
    public static CacheUser Build(long buildId) => new(BuildId: buildId);

    public static CacheUser Resource(long resourceId) => new(ResourceId: resourceId);

    public static CacheUser ResourceType(long resourceTypeId) => new(ResourceTypeId: resourceTypeId);
}

/// <summary>Resource configs, the caches of their versions, and the uses that keep caches alive.</summary>
public sealed class ResourceCacheRepository(NpgsqlDataSource dataSource)
{
    /// <summary>Finds or creates the config of a resource of a base type (the base type too); returns its id.</summary>
    public Task<long> FindOrCreateConfigAsync(string baseResourceType, string sourceHash, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(baseResourceType);
        ArgumentException.ThrowIfNullOrWhiteSpace(sourceHash);
        return dataSource.ScalarAsync<long>(
            """
            WITH base AS (
                INSERT INTO base_resource_types (name) VALUES (@baseResourceType)
                ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
                RETURNING id
            )
            INSERT INTO resource_configs (base_resource_type_id, source_hash)
            SELECT id, @sourceHash FROM base
            ON CONFLICT (base_resource_type_id, source_hash) WHERE base_resource_type_id IS NOT NULL
            DO UPDATE SET last_referenced_at = now()
            RETURNING id
            """, new { baseResourceType, sourceHash }, cancellationToken);
    }

    /// <summary>
    /// Finds or creates the config of a resource of a custom type, whose image is the given resource
    /// cache; returns its id. The cache cannot be deleted while the config exists.
    /// </summary>
    public Task<long> FindOrCreateCustomConfigAsync(long resourceCacheId, string sourceHash, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sourceHash);
        return dataSource.ScalarAsync<long>(
            """
            INSERT INTO resource_configs (resource_cache_id, source_hash) VALUES (@resourceCacheId, @sourceHash)
            ON CONFLICT (resource_cache_id, source_hash) WHERE resource_cache_id IS NOT NULL
            DO UPDATE SET last_referenced_at = now()
            RETURNING id
            """, new { resourceCacheId, sourceHash }, cancellationToken);
    }

    /// <summary>
    /// Finds or creates the cache of a version and records a use by <paramref name="user"/> in the same
    /// statement, so the cache is never visible to the collector without the use that keeps it.
    /// <paramref name="versionJson"/> is a JSON object; its digest does not depend on key order.
    /// </summary>
    public async Task<ResourceCache> AcquireAsync(
        long resourceConfigId, string versionJson, string paramsHash, CacheUser user, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (user.BuildId is null && user.ResourceId is null && user.ResourceTypeId is null)
        {
            throw new ArgumentException("a cache use needs a build, a resource or a resource type", nameof(user));
        }

        RequireJsonObject(versionJson);
        ArgumentNullException.ThrowIfNull(paramsHash);
        return await dataSource.QuerySingleOrDefaultAsync<ResourceCache>(
            $"""
            WITH cache AS (
                {UpsertCache}
                RETURNING id, resource_config_id, version::text AS version, version_digest, params_hash
            ), used AS (
                INSERT INTO resource_cache_uses (resource_cache_id, build_id, resource_id, resource_type_id)
                SELECT id, @BuildId, @ResourceId, @ResourceTypeId FROM cache
            )
            SELECT id, resource_config_id, version, version_digest, params_hash FROM cache
            """,
            new { resourceConfigId, versionJson, paramsHash, user.BuildId, user.ResourceId, user.ResourceTypeId },
            cancellationToken) ?? throw new InvalidOperationException("the cache upsert returned no row");
    }

    /// <summary>Finds or creates the cache of a version without recording a use.</summary>
    public async Task<ResourceCache> FindOrCreateCacheAsync(
        long resourceConfigId, string versionJson, string paramsHash, CancellationToken cancellationToken = default)
    {
        RequireJsonObject(versionJson);
        ArgumentNullException.ThrowIfNull(paramsHash);
        return await dataSource.QuerySingleOrDefaultAsync<ResourceCache>(
            $"""
            {UpsertCache}
            RETURNING id, resource_config_id, version::text AS version, version_digest, params_hash
            """, new { resourceConfigId, versionJson, paramsHash }, cancellationToken)
            ?? throw new InvalidOperationException("the cache upsert returned no row");
    }

    /// <summary>Records a use of an existing cache; returns the use's id.</summary>
    public Task<long> UseAsync(long resourceCacheId, CacheUser user, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        return dataSource.ScalarAsync<long>(
            """
            INSERT INTO resource_cache_uses (resource_cache_id, build_id, resource_id, resource_type_id)
            VALUES (@resourceCacheId, @BuildId, @ResourceId, @ResourceTypeId)
            RETURNING id
            """, new { resourceCacheId, user.BuildId, user.ResourceId, user.ResourceTypeId }, cancellationToken);
    }

    // The digest is computed by the server from the jsonb form, which orders keys canonically. The
    // DO UPDATE (not DO NOTHING) makes RETURNING yield the existing row and locks it for this
    // transaction, so a concurrent delete by the collector waits for the use to be recorded.
    private const string UpsertCache =
        """
        INSERT INTO resource_caches (resource_config_id, version, version_digest, params_hash)
                VALUES (@resourceConfigId, @versionJson::jsonb,
                        encode(sha256(convert_to((@versionJson::jsonb)::text, 'UTF8')), 'hex'), @paramsHash)
                ON CONFLICT (resource_config_id, version_digest, params_hash)
                DO UPDATE SET params_hash = EXCLUDED.params_hash
        """;

    private static void RequireJsonObject(string versionJson)
    {
        try
        {
            using var document = JsonDocument.Parse(versionJson);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ArgumentException($"a version must be a JSON object, not {document.RootElement.ValueKind}", nameof(versionJson));
            }
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"a version must be a JSON object: {ex.Message}", nameof(versionJson), ex);
        }
    }
}
