using Atc.Gc.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Atc.Gc.IntegrationTests.DiskPressure;

/// <summary>The scheduler's <see cref="Scheduling.WorkerVolumes"/>, wired against the test database and agents that use the test secret.</summary>
public static class SchedulerVolumes
{
    public static ServiceProvider Provider(NpgsqlDataSource dataSource) => new ServiceCollection()
        .AddAtcGcStore(dataSource)
        .AddAtcGcWorkerVolumes(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Workers:TokenSecret"] = CollectorHarness.Secret,
            ["Workers:AttemptTimeout"] = "00:00:02",
            ["Workers:TotalTimeout"] = "00:00:03",
            ["Workers:Retries"] = "0",
        }).Build())
        .BuildServiceProvider();
}
