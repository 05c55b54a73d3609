using System.Diagnostics;
using Atc.Gc.Collection;
using Atc.Gc.Database;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Atc.Gc.Benchmarks;

/// <summary>What every scenario shares: the server, the datasets loaded so far, progress output.</summary>
public sealed class BenchContext(BenchDatabase server, BenchOptions options, Action<string> progress) : IAsyncDisposable
{
    private readonly Dictionary<(int Total, int Orphans), (AtcGcDatabase Database, DatasetShape Shape)> datasets = [];

    public BenchDatabase Server { get; } = server;

    public BenchOptions Options { get; } = options;

    public List<BenchRow> Rows { get; } = [];

    public void Say(string line) => progress(line);

    /// <summary>The dataset of <paramref name="total"/> volumes with <paramref name="orphans"/> orphans, loaded once, reset to its loaded state each time it is handed out.</summary>
    public async Task<(AtcGcDatabase Database, DatasetShape Shape)> DatasetAsync(int total, int orphans, CancellationToken cancellationToken)
    {
        if (datasets.TryGetValue((total, orphans), out var loaded))
        {
            await OrphanReset.ResetAsync(loaded.Database.DataSource, cancellationToken);
            return loaded;
        }

        Say($"loading a dataset of {total:N0} volumes with {orphans:N0} orphans on {Options.Workers} workers");
        var database = await Server.CreateAsync($"bench_{total}_{orphans}", cancellationToken);
        var shape = await DatasetGenerator.LoadAsync(database.DataSource, total, orphans, Options.Workers, Options.Seed, Say, cancellationToken);
        await OrphanReset.RememberAsync(database.DataSource, cancellationToken);
        await OrphanReset.ResetAsync(database.DataSource, cancellationToken);
        Say($"  loaded in {shape.LoadTime.TotalSeconds:F1}s: {shape.Containers:N0} containers, {shape.Caches:N0} caches, {shape.Children:N0} copy-on-write children");
        datasets[(total, orphans)] = (database, shape);
        return (database, shape);
    }

    /// <summary>A collector wired as the orchestrator wires it, against <paramref name="dataSource"/>.</summary>
    /// <param name="service">Also register the background service that runs passes on every change signal.</param>
    public static ServiceProvider Collector(NpgsqlDataSource dataSource, IDictionary<string, string?>? settings = null, bool service = false)
    {
        var services = new ServiceCollection()
            .AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning))
            .AddAtcGcStore(dataSource)
            .AddAtcGcCollector(new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build());
        if (service)
        {
            services.AddAtcGcCollectorService();
        }

        return services.BuildServiceProvider();
    }

    public static async Task<(TimeSpan Time, long Changed)> TimeOursAsync(ServiceProvider collector, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var report = await collector.GetRequiredService<GarbageCollector>().RunPassAsync(new PassRequest(Only: ["orphaned-volumes"]), cancellationToken);
        return (clock.Elapsed, report.Changed);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (database, _) in datasets.Values)
        {
            await database.DisposeAsync();
        }
    }
}
