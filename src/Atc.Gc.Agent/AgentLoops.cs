namespace Atc.Gc.Agent;

/// <summary>What one background loop of the agent last did, as <c>/health</c> shows it.</summary>
/// <param name="State"><c>running</c>, <c>stopped</c> (the loop ended: it is not doing its work) or <c>idle</c> (not needed: no orchestrator).</param>
/// <param name="ConsecutiveFailures">Failures since the last success.</param>
internal sealed record LoopSnapshot(
    string State, DateTimeOffset? LastSuccess, DateTimeOffset? LastFailure, string? LastError, int ConsecutiveFailures, long Runs);

/// <summary>The agent's background loops (heartbeat, report, acknowledgements, reaper, sizes) and how each is doing: a dead or failing loop is visible.</summary>
internal sealed class AgentLoops
{
    private readonly Lock sync = new();
    private readonly SortedDictionary<string, LoopState> loops = new(StringComparer.Ordinal);

    /// <summary>The state of the loop <paramref name="name"/> (made on first use).</summary>
    public LoopState this[string name]
    {
        get
        {
            lock (sync)
            {
                if (!loops.TryGetValue(name, out var state))
                {
                    state = new LoopState();
                    loops[name] = state;
                }

                return state;
            }
        }
    }

    public IReadOnlyDictionary<string, LoopSnapshot> Snapshot()
    {
        lock (sync)
        {
            return loops.ToDictionary(l => l.Key, l => l.Value.Snapshot(), StringComparer.Ordinal);
        }
    }
}

/// <summary>One loop's record: set by the loop itself after every round.</summary>
internal sealed class LoopState
{
    private readonly Lock sync = new();
    private string state = "running";
    private DateTimeOffset? lastSuccess;
    private DateTimeOffset? lastFailure;
    private string? lastError;
    private int failures;
    private long runs;

    /// <summary>Failures since the last success.</summary>
    public int ConsecutiveFailures
    {
        get
        {
            lock (sync)
            {
                return failures;
            }
        }
    }

    public void Succeeded()
    {
        lock (sync)
        {
            state = "running";
            lastSuccess = DateTimeOffset.UtcNow;
            failures = 0;
            runs++;
        }
    }

    public void Failed(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        lock (sync)
        {
            state = "running";
            lastFailure = DateTimeOffset.UtcNow;
            lastError = Model.Excerpt.Of($"{error.GetType().Name}: {error.Message}");
            failures++;
            runs++;
        }
    }

    /// <summary>The loop ended (<paramref name="how"/>: <c>stopped</c>, or <c>idle</c> when it has nothing to do).</summary>
    public void Ended(string how)
    {
        lock (sync)
        {
            state = how;
        }
    }

    public LoopSnapshot Snapshot()
    {
        lock (sync)
        {
            return new LoopSnapshot(state, lastSuccess, lastFailure, lastError, failures, runs);
        }
    }
}
