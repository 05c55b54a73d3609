using System.Diagnostics;
using Atc.Gc.Agent;

namespace Atc.Gc.Benchmarks.Scenarios;

/// <summary>
/// A copy-on-write child of a parent of growing size (each parent in the same number of files), made by
/// the overlay driver and by the naive one (a copy), side by side: the time to make it and the bytes it
/// wrote (the child's own data on disk right after it was made). Overlay needs root; without it only the
/// naive driver is measured.
/// </summary>
public static class CowScenario
{
    private static readonly IReadOnlyDictionary<string, string> NoProperties = new Dictionary<string, string>();

    public static async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = context.Options;
        var directory = Directory.CreateTempSubdirectory("atc-gc-bench-cow-").FullName;
        try
        {
            var stores = new Dictionary<string, VolumeStore>();
            try
            {
                stores["overlay"] = VolumeStore.Open(Path.Combine(directory, "overlay"), "overlay");
            }
            catch (InvalidOperationException ex)
            {
                context.Say($"  overlay is not available here ({ex.Message}): naive only");
            }

            stores["naive"] = VolumeStore.Open(Path.Combine(directory, "naive"), "naive");
            var drivers = stores.Keys.ToList();
            foreach (var size in options.CowSizes)
            {
                foreach (var store in stores.Values)
                {
                    await MakeParentAsync(store, $"parent-{size}", size, options.CowFiles, cancellationToken);
                }
            }

            context.Say($"  parents of {string.Join(", ", options.CowSizes.Select(Describe))} in {options.CowFiles:N0} files each, per driver");
            var times = drivers.ToDictionary(d => d, _ => options.CowSizes.ToDictionary(s => s, _ => new List<TimeSpan>()));
            var written = drivers.ToDictionary(d => d, _ => options.CowSizes.ToDictionary(s => s, _ => 0L));
            var repeats = Math.Max(3, options.Repeats);
            for (var repeat = 0; repeat < repeats; repeat++)
            {
                foreach (var size in options.CowSizes)
                {
                    // Alternate which driver goes first: the machine's speed drifts.
                    foreach (var driver in repeat % 2 == 0 ? drivers : Enumerable.Reverse(drivers))
                    {
                        var store = stores[driver];
                        var child = $"child-{size}-{repeat}";
                        var clock = Stopwatch.StartNew();
                        var (outcome, _) = await store.CreateAsync(child, VolumeStrategy.CopyOf($"parent-{size}"), NoProperties, cancellationToken);
                        var elapsed = clock.Elapsed;
                        if (outcome != CreateOutcome.Created)
                        {
                            throw new InvalidOperationException($"the {driver} child of {Describe(size)} was not made: {outcome}");
                        }

                        times[driver][size].Add(elapsed);
                        written[driver][size] = (await store.MeasureAsync(child, cancellationToken))!.SizeBytes;
                        await store.DeleteAsync(child, TimeSpan.FromMinutes(5), cancellationToken);
                    }
                }
            }

            var smallest = options.CowSizes[0];
            foreach (var size in options.CowSizes)
            {
                foreach (var driver in drivers)
                {
                    var median = Stats.Median(times[driver][size]);
                    var bytes = written[driver][size];
                    if (driver == "overlay")
                    {
                        var growth = Stats.MedianRatio(times[driver][size], times[driver][smallest]);
                        var met = median <= TimeSpan.FromMilliseconds(50) && (size == smallest || growth <= 1.5);
                        context.Rows.Add(new BenchRow("cow", $"overlay child of {Describe(size)} in {options.CowFiles:N0} files", 1, median,
                            Ratio: $"writes {Describe(bytes)}" + (size == smallest ? string.Empty : $"; {growth:F2}× the {Describe(smallest)} child"),
                            Target: size == smallest ? "≤ 50 ms" : $"≤ 50 ms, ≤ 1.5× the {Describe(smallest)} child", Met: met,
                            Note: $"a mount over the parent's layers; median of {repeats}, drivers alternating"));
                    }
                    else
                    {
                        var versus = drivers.Contains("overlay") ? $"; {Stats.MedianRatio(times[driver][size], times["overlay"][size]):F0}× overlay" : string.Empty;
                        context.Rows.Add(new BenchRow("cow", $"naive child (copy) of {Describe(size)} in {options.CowFiles:N0} files", 1, median,
                            Ratio: $"writes {Describe(bytes)}{versus}",
                            Note: $"cp --reflink=auto -a (ext4: a full copy); median of {repeats}"));
                    }
                }
            }
        }
        finally
        {
            AgentDirectory.Remove(directory);
        }
    }

    private static async Task MakeParentAsync(VolumeStore store, string handle, long bytes, int files, CancellationToken cancellationToken)
    {
        var (outcome, _) = await store.CreateAsync(handle, VolumeStrategy.Empty, NoProperties, cancellationToken);
        if (outcome != CreateOutcome.Created)
        {
            throw new InvalidOperationException($"parent {handle} was not made: {outcome}");
        }

        var data = store.DataPathOf(handle);
        var perFile = (int)Math.Max(1, bytes / files);
        var content = new byte[perFile];
        new Random(files).NextBytes(content);
        for (var i = 0; i < files; i++)
        {
            var folder = Path.Combine(data, $"d{i % 100:D2}");
            Directory.CreateDirectory(folder);
            await File.WriteAllBytesAsync(Path.Combine(folder, $"f{i:D5}"), content, cancellationToken);
        }
    }

    private static string Describe(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.#} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.#} MiB",
        >= 1L << 10 => $"{bytes / (double)(1L << 10):0.#} KiB",
        _ => $"{bytes} B",
    };
}
