using Atc.Gc.Scheduling;
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
        return services;
    }
}
