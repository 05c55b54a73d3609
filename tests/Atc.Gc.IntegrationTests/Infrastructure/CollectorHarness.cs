using Atc.Gc.Collection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Atc.Gc.IntegrationTests.Infrastructure;

/// <summary>A collector wired as a host wires it, against the test database, with test-sized options.</summary>
public sealed class CollectorHarness : IAsyncDisposable
{
    public const string Secret = "test-secret-0123456789abcdef";

    private readonly ServiceProvider provider;

    public CollectorHarness(NpgsqlDataSource dataSource, IDictionary<string, string?>? settings = null, Action<IServiceCollection>? configure = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["Workers:TokenSecret"] = Secret,
            ["Workers:AttemptTimeout"] = "00:00:01",
            ["Workers:TotalTimeout"] = "00:00:02",
            ["Workers:Retries"] = "1",
            ["Collector:ClaimLease"] = "00:00:30",
            ["Collector:BatchSize"] = "100",
            ["Collector:DeleteBatchSize"] = "50",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection()
            .AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning))
            .AddAtcGcStore(dataSource)
            .AddAtcGcCollector(configuration);
        configure?.Invoke(services);
        provider = services.BuildServiceProvider();
    }

    public GarbageCollector Collector => provider.GetRequiredService<GarbageCollector>();

    public T Get<T>()
        where T : notnull => provider.GetRequiredService<T>();

    /// <summary>The workers' deletion loops.</summary>
    public WorkerDeleter Deleter => provider.GetRequiredService<WorkerDeleter>();

    /// <summary>One pass that waits for every worker.</summary>
    public Task<PassReport> PassAsync(bool dryRun = false) => Collector.RunPassAsync(new PassRequest(DryRun: dryRun, WaitForWorkers: true));

    /// <summary>One pass of only the named collectors; returns the report of the last one.</summary>
    public async Task<CollectorReport> RunAsync(params string[] collectors) =>
        (await Collector.RunPassAsync(new PassRequest(WaitForWorkers: true, Only: collectors))).Collectors[^1];

    public ValueTask DisposeAsync() => provider.DisposeAsync();
}

public static class PassReportExtensions
{
    public static CollectorReport Of(this PassReport report, string collector) => report.Collectors.Single(c => c.Collector == collector);
}
