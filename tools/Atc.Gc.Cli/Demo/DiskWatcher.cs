namespace Atc.Gc.Cli.Demo;

/// <summary>Looks at the workers' volume directories ten times a second and tells the ledger what disappeared.</summary>
internal sealed class DiskWatcher(IReadOnlyList<AgentProcess> agents, DemoLedger ledger)
{
    private readonly Dictionary<string, HashSet<string>> seen = agents.ToDictionary(a => a.Name, _ => new HashSet<string>(StringComparer.Ordinal));
    private readonly Lock sync = new();

    /// <summary>Handles on each worker's disk at the last look.</summary>
    public IReadOnlyDictionary<string, IReadOnlySet<string>> OnDisk
    {
        get
        {
            lock (sync)
            {
                return seen.ToDictionary(s => s.Key, s => (IReadOnlySet<string>)new HashSet<string>(s.Value, StringComparer.Ordinal));
            }
        }
    }

    public long BytesOn(string worker)
    {
        lock (sync)
        {
            return seen[worker].Sum(ledger.SizeOf);
        }
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Scan();
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

    public void Scan()
    {
        foreach (var agent in agents)
        {
            var now = Directory.Exists(agent.VolumesDirectory)
                ? Directory.EnumerateDirectories(agent.VolumesDirectory).Select(Path.GetFileName).OfType<string>().ToHashSet(StringComparer.Ordinal)
                : [];
            lock (sync)
            {
                foreach (var gone in seen[agent.Name].Where(h => !now.Contains(h)))
                {
                    ledger.Disappeared(agent.Name, gone);
                }

                seen[agent.Name] = now;
            }
        }
    }
}
