using Atc.Gc.Workers;
using Npgsql;

namespace Atc.Gc.Scheduling;

/// <summary>
/// The in-process API a CI scheduler uses: one entry point over the repositories, all sharing one
/// data source. Every method is async and takes a cancellation token.
/// </summary>
public sealed class AtcGcStore(NpgsqlDataSource dataSource)
{
    public WorkerRepository Workers { get; } = new(dataSource);

    public PipelineRepository Pipelines { get; } = new(dataSource);

    public BuildRepository Builds { get; } = new(dataSource);

    public ResourceCacheRepository ResourceCaches { get; } = new(dataSource);

    public TaskCacheRepository TaskCaches { get; } = new(dataSource);

    public ContainerRepository Containers { get; } = new(dataSource);

    public VolumeRepository Volumes { get; } = new(dataSource);

    /// <summary>Builds' uses of cache volumes (their last use, for disk-pressure eviction).</summary>
    public CacheVolumeUses CacheVolumes { get; } = new(dataSource);

    /// <summary>Worker token generations, and where to call a worker with which token.</summary>
    public WorkerCredentials Credentials { get; } = new(dataSource);
}
