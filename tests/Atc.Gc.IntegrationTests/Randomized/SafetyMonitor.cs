using System.Collections.Concurrent;
using System.Diagnostics;
using Dapper;
using Npgsql;

namespace Atc.Gc.IntegrationTests.Randomized;

/// <summary>
/// What the simulated scheduler holds in use — every volume a running build has mounted (its input's
/// copy-on-write child and that child's parent, its task cache volume, its output volume) — and a
/// watch on it: several times a second, every held volume must still be on its worker's disk and in
/// the database, not destroying; no child may reference a destroying parent. A volume released while
/// a check runs is not a violation: a finding is confirmed against the holds after the check.
/// It also times released volumes from their release to their disappearance from disk.
/// </summary>
internal sealed class SafetyMonitor(RandomizedCluster cluster)
{
    private readonly Lock sync = new();
    private readonly Dictionary<(string Worker, string Handle), long> held = [];
    private readonly ConcurrentDictionary<(string Worker, string Handle), ReleasedVolume> released = new();
    private readonly ConcurrentQueue<string> violations = new();
    private readonly List<(double Seconds, string Faults)> latencies = [];
    private long nextHold;
    private long checks;

    public IReadOnlyCollection<string> Violations => violations;

    public long Checks => Interlocked.Read(ref checks);

    public int Held
    {
        get
        {
            lock (sync)
            {
                return held.Count;
            }
        }
    }

    /// <summary>Release → gone from disk, in seconds, and which faults overlapped that time (see <see cref="FaultTimeline.During"/>).</summary>
    public IReadOnlyList<(double Seconds, string Faults)> Latencies
    {
        get
        {
            lock (sync)
            {
                return [.. latencies];
            }
        }
    }

    public void Hold(string worker, IEnumerable<string> handles)
    {
        lock (sync)
        {
            foreach (var handle in handles)
            {
                held[(worker, handle)] = ++nextHold;
            }
        }
    }

    /// <summary>Stops holding the volumes; those in <paramref name="timed"/> are timed until they leave the disk.</summary>
    public void Release(string worker, IEnumerable<string> handles, IEnumerable<string> timed)
    {
        lock (sync)
        {
            foreach (var handle in handles)
            {
                held.Remove((worker, handle));
            }
        }

        foreach (var handle in timed)
        {
            released[(worker, handle)] = new ReleasedVolume(Stopwatch.StartNew(), DateTime.UtcNow);
        }
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await CheckAsync();
            TimeReleases();
            try
            {
                await Task.Delay(100, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One round of checks.</summary>
    public async Task CheckAsync()
    {
        Dictionary<(string Worker, string Handle), long> snapshot;
        lock (sync)
        {
            snapshot = new Dictionary<(string, string), long>(held);
        }

        var findings = new List<((string Worker, string Handle) Key, long Hold, string What)>();
        foreach (var ((worker, handle), hold) in snapshot)
        {
            var agent = cluster.Agents.Single(a => a.Name == worker);
            if (!Directory.Exists(agent.VolumePath(handle)))
            {
                findings.Add(((worker, handle), hold, "is gone from its worker's disk"));
            }
        }

        try
        {
            await using var connection = await cluster.DataSource.OpenConnectionAsync();
            var handles = snapshot.Keys.Select(k => k.Handle).ToArray();
            var states = (await connection.QueryAsync<(string Handle, string State)>(
                "SELECT handle, state::text FROM volumes WHERE handle = ANY(@handles)", new { handles }))
                .ToDictionary(r => r.Handle, r => r.State, StringComparer.Ordinal);
            foreach (var ((worker, handle), hold) in snapshot)
            {
                if (!states.TryGetValue(handle, out var state))
                {
                    findings.Add(((worker, handle), hold, "has no row any more"));
                }
                else if (state == "destroying")
                {
                    findings.Add(((worker, handle), hold, "is destroying"));
                }
            }

            var orphanedChildren = await connection.ExecuteScalarAsync<long>(
                "SELECT count(*) FROM volumes c JOIN volumes p ON p.id = c.parent_id WHERE p.state = 'destroying'");
            if (orphanedChildren > 0)
            {
                violations.Enqueue($"{orphanedChildren} child volume(s) reference a destroying parent");
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            // The database is restarting: the disk checks above still count.
        }

        lock (sync)
        {
            foreach (var (key, hold, what) in findings)
            {
                if (held.TryGetValue(key, out var still) && still == hold)
                {
                    violations.Enqueue($"volume {key.Handle} held by a running build on {key.Worker} {what}");
                }
            }
        }

        Interlocked.Increment(ref checks);
    }

    private void TimeReleases()
    {
        foreach (var ((worker, handle), release) in released)
        {
            var agent = cluster.Agents.Single(a => a.Name == worker);
            if (!Directory.Exists(agent.VolumePath(handle)) && released.TryRemove((worker, handle), out _))
            {
                lock (sync)
                {
                    latencies.Add((release.Clock.Elapsed.TotalSeconds, cluster.Faults.During(release.At, DateTime.UtcNow)));
                }
            }
        }
    }

    private sealed record ReleasedVolume(Stopwatch Clock, DateTime At);
}
