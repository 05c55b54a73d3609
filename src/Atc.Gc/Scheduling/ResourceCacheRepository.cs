using System.Text.Json;
using Atc.Gc.Database;
using Npgsql;

namespace Atc.Gc.Scheduling;

/// <summary>A <c>resource_caches</c> row: one version of a resource config fetched with some params.</summary>
public sealed record ResourceCache(long Id, long ResourceConfigId, string Version, string VersionDigest, string ParamsHash);

/// <summary>How finding, creating or using a resource cache ended.</summary>
public enum CacheOutcome
{
    /// <summary>The cache exists (found or created) and, when a use was asked for, the use is recorded.</summary>
    Ready,

    /// <summary>The resource config does not exist (any more): the collector deleted it after its grace. Find or create the config again.</summary>
    ConfigGone,

    /// <summary>The cache does not exist (any more): the collector or an operator deleted it first.</summary>
    CacheGone,

    /// <summary>The build, resource or resource type named as the user does not exist (any more).</summary>
    HolderGone,
}

/// <param name="Cache">The cache when <see cref="Outcome"/> is <see cref="CacheOutcome.Ready"/> (unset for <see cref="ResourceCacheRepository.UseAsync"/>).</param>
/// <param name="UseId">The use recorded, when one was asked for.</param>
/// <param name="Detail">Why it is not ready.</param>
public sealed record CacheResult(CacheOutcome Outcome, ResourceCache? Cache = null, long? UseId = null, string? Detail = null)
{
    public bool Succeeded => Outcome == CacheOutcome.Ready;
}

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
    /// <paramref name="versionJson"/> is a JSON object; its digest does not depend on key order. A
    /// config or a user that went away comes back as a typed result.
    /// </summary>
    public Task<CacheResult> AcquireAsync(
        long resourceConfigId, string versionJson, string paramsHash, CacheUser user, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (user.BuildId is null && user.ResourceId is null && user.ResourceTypeId is null)
        {
            throw new ArgumentException("a cache use needs a build, a resource or a resource type", nameof(user));
        }

        RequireJsonObject(versionJson);
        ArgumentNullException.ThrowIfNull(paramsHash);
        return TypedAsync(async () =>
        {
            var row = await dataSource.QuerySingleOrDefaultAsync<AcquiredRow>(
                $"""
                WITH cache AS (
                    {UpsertCache}
                    RETURNING id, resource_config_id, version::text AS version, version_digest, params_hash
                ), used AS (
                    INSERT INTO resource_cache_uses (resource_cache_id, build_id, resource_id, resource_type_id)
                    SELECT id, @BuildId, @ResourceId, @ResourceTypeId FROM cache
                    RETURNING id
                )
                SELECT c.id, c.resource_config_id, c.version, c.version_digest, c.params_hash, (SELECT id FROM used) AS use_id FROM cache c
                """,
                new { resourceConfigId, versionJson, paramsHash, user.BuildId, user.ResourceId, user.ResourceTypeId },
                cancellationToken) ?? throw new InvalidOperationException("the cache upsert returned no row");
            return new CacheResult(CacheOutcome.Ready, new ResourceCache(row.Id, row.ResourceConfigId, row.Version, row.VersionDigest, row.ParamsHash), row.UseId);
        }, resourceConfigId);
    }

    /// <summary>Finds or creates the cache of a version without recording a use.</summary>
    public Task<CacheResult> FindOrCreateCacheAsync(
        long resourceConfigId, string versionJson, string paramsHash, CancellationToken cancellationToken = default)
    {
        RequireJsonObject(versionJson);
        ArgumentNullException.ThrowIfNull(paramsHash);
        return TypedAsync(async () => new CacheResult(
            CacheOutcome.Ready,
            await dataSource.QuerySingleOrDefaultAsync<ResourceCache>(
                $"""
                {UpsertCache}
                RETURNING id, resource_config_id, version::text AS version, version_digest, params_hash
                """, new { resourceConfigId, versionJson, paramsHash }, cancellationToken)
            ?? throw new InvalidOperationException("the cache upsert returned no row")), resourceConfigId);
    }

    /// <summary>Records a use of an existing cache. A cache being deleted makes the use wait and then come back as <see cref="CacheOutcome.CacheGone"/>.</summary>
    public Task<CacheResult> UseAsync(long resourceCacheId, CacheUser user, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        return TypedAsync(async () => new CacheResult(CacheOutcome.Ready, UseId: await dataSource.ScalarAsync<long>(
            """
            INSERT INTO resource_cache_uses (resource_cache_id, build_id, resource_id, resource_type_id)
            VALUES (@resourceCacheId, @BuildId, @ResourceId, @ResourceTypeId)
            RETURNING id
            """, new { resourceCacheId, user.BuildId, user.ResourceId, user.ResourceTypeId }, cancellationToken)), null);
    }

    /// <summary>A foreign key refusing the statement, as the result it means.</summary>
    private static async Task<CacheResult> TypedAsync(Func<Task<CacheResult>> statement, long? resourceConfigId)
    {
        try
        {
            return await statement();
        }
        catch (PostgresException ex) when (ex.IsForeignKeyViolation("resource_caches_resource_config_id_fkey"))
        {
            return new CacheResult(CacheOutcome.ConfigGone, Detail: $"resource config {resourceConfigId} does not exist");
        }
        catch (PostgresException ex) when (ex.IsForeignKeyViolation("resource_cache_uses_resource_cache_id_fkey"))
        {
            return new CacheResult(CacheOutcome.CacheGone, Detail: ex.Detail);
        }
        catch (PostgresException ex) when (ex.IsForeignKeyViolation())
        {
            return new CacheResult(CacheOutcome.HolderGone, Detail: $"{ex.ConstraintName}: {ex.Detail}");
        }
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

    private sealed class AcquiredRow
    {
        public long Id { get; init; }

        public long ResourceConfigId { get; init; }

        public string Version { get; init; } = string.Empty;

        public string VersionDigest { get; init; } = string.Empty;

        public string ParamsHash { get; init; } = string.Empty;

        public long? UseId { get; init; }
    }

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
