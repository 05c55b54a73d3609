using Atc.Gc.Agent.Native;

namespace Atc.Gc.Agent;

/// <summary>
/// The body of the agent's <c>GET /health</c> (never walks the disk): <c>degraded</c> while a leftover
/// cannot be removed, a volume's data is not usable, or a loop keeps failing or has stopped.
/// </summary>
internal sealed record AgentHealth(
    string Status,
    string Driver,
    int Volumes,
    DiskFigures? Disk,
    IReadOnlyList<Leftover> Leftovers,
    IReadOnlyDictionary<string, string> Problems,
    IReadOnlyDictionary<string, LoopSnapshot> Loops,
    bool ChildrenDieWithAgent)
{
    /// <summary>Failures in a row after which a loop makes the agent degraded.</summary>
    public const int FailingAfter = 3;

    public static AgentHealth Of(VolumeStore store, AgentLoops loops)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(loops);
        DiskFigures? disk;
        try
        {
            disk = store.Disk();
        }
        catch (IOException)
        {
            disk = null;
        }

        var leftovers = store.Leftovers;
        var problems = store.Problems;
        var snapshot = loops.Snapshot();
        var degraded = leftovers.Any(l => l.Error is not null)
            || problems.Count > 0
            || snapshot.Values.Any(l => l.State == "stopped" || l.ConsecutiveFailures >= FailingAfter);
        return new AgentHealth(
            degraded ? "degraded" : "healthy", store.DriverName, store.Count, disk, leftovers, problems, snapshot, ChildProcesses.DieWithAgent);
    }
}
