using System.Collections.Concurrent;

namespace Atc.Gc.Server;

/// <summary>
/// At most one volume report per worker in flight: a report that arrives while its worker's previous
/// one is still being read or applied is refused at once (429, Retry-After) instead of adding another
/// body, another connection and another transaction for the same worker.
/// </summary>
public sealed class ReportGate
{
    /// <summary>What a refused report is told to wait.</summary>
    public static TimeSpan RetryAfter { get; } = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, byte> inFlight = new(StringComparer.Ordinal);

    /// <summary>True when no report of <paramref name="worker"/> is in flight; it is then until <see cref="Exit"/>.</summary>
    public bool TryEnter(string worker) => inFlight.TryAdd(worker, 0);

    public void Exit(string worker) => inFlight.TryRemove(worker, out _);
}
