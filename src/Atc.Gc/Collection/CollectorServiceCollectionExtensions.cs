using Atc.Gc.Collection.Collectors;
using Atc.Gc.Collection.DiskPressure;
using Atc.Gc.Workers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Atc.Gc.Collection;

public static class CollectorServiceCollectionExtensions
{
    /// <summary>
    /// Registers the collector: validated <see cref="CollectorOptions"/> from the <c>Collector</c>
    /// section, the worker client, the collectors in pass order, <see cref="GarbageCollector"/>,
    /// metrics and the health check. Add <see cref="AddAtcGcCollectorService"/> to run passes in the background.
    /// </summary>
    public static IServiceCollection AddAtcGcCollector(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<CollectorOptions>()
            .Bind(configuration.GetSection(CollectorOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<CollectorOptions>, ClaimLeaseValidator>();
        services.AddAtcGcWorkerClient(configuration);
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<CollectorMetrics>();
        services.TryAddSingleton<CollectorHealth>();
        services.TryAddSingleton<CollectionSignal>();
        services.TryAddSingleton<WorkerDeleter>();
        services.TryAddSingleton<CollectorCoordinator>();
        services.TryAddSingleton<ClusterPassBudget>();
        services.TryAddSingleton<IDiskPressurePause, NoDiskPressurePause>();

        // The order is the pass order: each collector releases what the next one collects.
        services.AddSingleton<ICollector, WorkerCollector>();
        services.AddSingleton<ICollector, BuildCollector>();
        services.AddSingleton<ICollector, ResourceCacheUseCollector>();
        services.AddSingleton<ICollector, ResourceCacheCollector>();
        services.AddSingleton<ICollector, ResourceConfigCollector>();
        services.AddSingleton<ICollector, TaskCacheCollector>();
        services.AddSingleton<ICollector, ContainerCollector>();
        services.AddSingleton<ICollector, StuckVolumeCollector>();
        services.AddSingleton<ICollector, MissingVolumeCollector>();
        services.AddSingleton<ICollector, FailedVolumeCollector>();
        services.AddSingleton<ICollector, DiskPressureCollector>();
        services.AddSingleton<ICollector, OrphanedVolumeCollector>();
        services.AddSingleton<ICollector, DestroyingVolumeCollector>();
        services.TryAddSingleton<GarbageCollector>();
        services.AddHealthChecks().AddCheck<CollectorHealthCheck>("collector");
        return services;
    }

    /// <summary>Runs passes in the background (<see cref="CollectorService"/>).</summary>
    public static IServiceCollection AddAtcGcCollectorService(this IServiceCollection services) =>
        services.AddHostedService<CollectorService>();

    /// <summary>A claim must outlive the longest call to a worker, or two collectors could send the same deletion.</summary>
    private sealed class ClaimLeaseValidator(IOptions<WorkerClientOptions> workers) : IValidateOptions<CollectorOptions>
    {
        public ValidateOptionsResult Validate(string? name, CollectorOptions options) =>
            options.ClaimLease > workers.Value.TotalTimeout * 2
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail(
                    $"Collector:ClaimLease ({options.ClaimLease}) must be more than twice Workers:TotalTimeout ({workers.Value.TotalTimeout})");
    }
}
