using Atc.Gc.Scheduling;
using Atc.Gc.Workers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Atc.Gc;

public static class ServiceCollectionExtensions
{
    /// <summary>Registers the data source and the scheduler API (<see cref="AtcGcStore"/> and its repositories).</summary>
    public static IServiceCollection AddAtcGcStore(this IServiceCollection services, NpgsqlDataSource dataSource)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        services.AddSingleton(dataSource);
        services.AddSingleton(sp => new AtcGcStore(sp.GetRequiredService<NpgsqlDataSource>()));
        services.AddSingleton(sp => sp.GetRequiredService<AtcGcStore>().Workers);
        services.AddSingleton(sp => sp.GetRequiredService<AtcGcStore>().Pipelines);
        services.AddSingleton(sp => sp.GetRequiredService<AtcGcStore>().Builds);
        services.AddSingleton(sp => sp.GetRequiredService<AtcGcStore>().ResourceCaches);
        services.AddSingleton(sp => sp.GetRequiredService<AtcGcStore>().TaskCaches);
        services.AddSingleton(sp => sp.GetRequiredService<AtcGcStore>().Containers);
        services.AddSingleton(sp => sp.GetRequiredService<AtcGcStore>().Volumes);
        services.AddSingleton(sp => sp.GetRequiredService<AtcGcStore>().Credentials);
        return services;
    }

    /// <summary>
    /// Registers the scheduler's volume operations on workers (<see cref="WorkerVolumes"/>) and the
    /// worker client they use (options from the <c>Workers</c> section). Needs <see cref="AddAtcGcStore"/>.
    /// </summary>
    public static IServiceCollection AddAtcGcWorkerVolumes(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddAtcGcWorkerClient(configuration);
        services.AddSingleton<WorkerVolumes>();
        return services;
    }
}
