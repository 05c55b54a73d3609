using System.Diagnostics;
using Atc.Gc.Collection;
using Atc.Gc.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Atc.Gc.Benchmarks.Scenarios;

/// <summary>
/// What the scheduler feels: creating a volume and creating a copy-on-write child, timed one by one,
/// on an idle database and while a full collection pass marks every orphan of the main dataset.
/// </summary>
public static class HotPathScenario
{
    public static async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = context.Options;
        var (database, _) = await context.DatasetAsync(options.Scale, options.Orphans, cancellationToken);
        var dataSource = database.DataSource;
        var store = new AtcGcStore(dataSource);
        var container = (await store.Containers.CreateAsync("w1", ContainerOwner.Build(1), cancellationToken: cancellationToken)).Container
            ?? throw new InvalidOperationException("the hot path's container could not be created");
        var parent = await ParentAsync(dataSource, cancellationToken);

        var idle = await MeasureAsync(store, container.Id, parent, options.HotPathOperations, () => false, cancellationToken);

        await OrphanReset.ResetAsync(dataSource, cancellationToken);
        await using var collector = BenchContext.Collector(dataSource);
        var pass = Task.Run(() => collector.GetRequiredService<GarbageCollector>().RunPassAsync(cancellationToken: cancellationToken), cancellationToken);
        var during = await MeasureAsync(store, container.Id, parent, options.HotPathOperations, () => pass.IsCompleted, cancellationToken);
        var report = await pass;
        await OrphanReset.ResetAsync(dataSource, cancellationToken);
        context.Say($"  the pass marked {report.Collectors.Single(c => c.Collector == "orphaned-volumes").Changed:N0} orphans in {report.Duration.TotalSeconds:F2}s; " +
                    $"{during.Create.Count} operations ran during it");

        foreach (var (name, idleTimes, duringTimes) in new[] { ("create volume", idle.Create, during.Create), ("create copy-on-write child", idle.Child, during.Child) })
        {
            var idleP99 = Stats.Percentile(idleTimes, 99);
            var duringP99 = Stats.Percentile(duringTimes, 99);
            var ratio = duringP99 / idleP99;
            context.Rows.Add(new BenchRow("hot path", $"{name}, idle", idleTimes.Count, TimeSpan.FromMilliseconds(idleTimes.Sum()),
                Note: $"p50 {Stats.Percentile(idleTimes, 50):F2} ms, p99 {idleP99:F2} ms"));
            context.Rows.Add(new BenchRow("hot path", $"{name}, during a full pass", duringTimes.Count, TimeSpan.FromMilliseconds(duringTimes.Sum()),
                Ratio: $"p99 {ratio:F2}× idle", Target: "p99 ≤ 2× idle", Met: ratio <= 2,
                Note: $"p50 {Stats.Percentile(duringTimes, 50):F2} ms, p99 {duringP99:F2} ms"));
        }
    }

    private sealed record Latencies(List<double> Create, List<double> Child);

    /// <summary>Times up to <paramref name="operations"/> create/child pairs, stopping early when <paramref name="done"/> says so (the pass ended).</summary>
    private static async Task<Latencies> MeasureAsync(
        AtcGcStore store, long containerId, long parentId, int operations, Func<bool> done, CancellationToken cancellationToken)
    {
        var latencies = new Latencies([], []);
        var clock = new Stopwatch();
        for (var i = 0; i < operations && !done(); i++)
        {
            clock.Restart();
            var created = await store.Volumes.CreateAsync("w1", VolumeOwners.Container(containerId), cancellationToken: cancellationToken);
            latencies.Create.Add(clock.Elapsed.TotalMilliseconds);
            clock.Restart();
            var child = await store.Volumes.CreateCopyOnWriteChildAsync(parentId, VolumeOwners.Container(containerId), cancellationToken: cancellationToken);
            latencies.Child.Add(clock.Elapsed.TotalMilliseconds);
            if (!created.Succeeded || !child.Succeeded)
            {
                throw new InvalidOperationException($"the hot path failed: {created.Outcome}, {child.Outcome}");
            }
        }

        return latencies;
    }

    /// <summary>An initialized cache volume on w1 to make children of.</summary>
    private static async Task<long> ParentAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT id FROM volumes WHERE worker_name = 'w1' AND state = 'initialized' AND resource_cache_id IS NOT NULL ORDER BY id LIMIT 1");
        return (long)(await command.ExecuteScalarAsync(cancellationToken) ?? throw new InvalidOperationException("no cache volume on w1"));
    }
}
