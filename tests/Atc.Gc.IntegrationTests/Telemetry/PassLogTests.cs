using System.Collections.Concurrent;
using Atc.Gc.Collection;
using Atc.Gc.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atc.Gc.IntegrationTests.Telemetry;

/// <summary>A pass logs its figures as structured fields: its totals, and each collector's, not one preformatted string.</summary>
public sealed class PassLogTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task A_pass_logs_each_collector_s_figures_as_fields_at_the_pass_s_level()
    {
        var captured = new CapturingProvider();
        await using var harness = new CollectorHarness(DataSource, configure: services => services.AddLogging(logging => logging
            .AddProvider(captured)
            .AddFilter<CapturingProvider>(typeof(GarbageCollector).FullName, LogLevel.Information)));
        await using var fleet = new WorkerFleet(Store, Given);
        await fleet.OrphansAsync(await fleet.AddAsync("w1"), 2);

        var report = await harness.PassAsync();

        var entries = captured.Entries.Where(e => e.Category == typeof(GarbageCollector).FullName).ToList();
        var pass = Assert.Single(entries, e => e.Fields.ContainsKey("FailedCollectors"));
        Assert.Equal(LogLevel.Information, pass.Level);
        Assert.Equal(report.Changed, pass.Fields["Changed"]);
        var orphans = Assert.Single(entries, e => Equals(e.Fields.GetValueOrDefault("Collector"), "orphaned-volumes"));
        Assert.Equal(LogLevel.Information, orphans.Level);
        Assert.Equal(report.Of("orphaned-volumes").Changed, orphans.Fields["Changed"]);
        Assert.Equal(report.Of("orphaned-volumes").Examined, orphans.Fields["Examined"]);
        Assert.Equal("ran", orphans.Fields["Outcome"]);
        Assert.Equal(report.Collectors.Count, entries.Count(e => e.Fields.ContainsKey("Collector")));
    }

    private sealed record Entry(string Category, LogLevel Level, IReadOnlyDictionary<string, object?> Fields);

    private sealed class CapturingProvider : ILoggerProvider
    {
        public ConcurrentQueue<Entry> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, Entries);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<Entry> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue(new Entry(
                    category,
                    logLevel,
                    (state as IEnumerable<KeyValuePair<string, object?>> ?? []).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal)));
        }
    }
}
