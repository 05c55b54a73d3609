using System.Globalization;
using Atc.Gc.Lifecycle;
using Atc.Gc.Model;

namespace Atc.Gc.Inspection;

/// <summary>Why a volume is alive, or what the next pass will do to it, in words.</summary>
/// <param name="Collectable">The next pass changes it (marks it destroying, fails it, forgets it) or it is being deleted.</param>
/// <param name="Summary">One sentence.</param>
/// <param name="Reasons">The owners that keep it, or what will happen and why.</param>
public sealed record VolumeVerdict(bool Collectable, string Summary, IReadOnlyList<string> Reasons)
{
    /// <summary>
    /// Judges a volume from its facts and from what a dry run of the next pass left of it
    /// (<paramref name="stateAfterNextPass"/>: its state then, null when its row would be gone).
    /// </summary>
    public static VolumeVerdict Judge(VolumeFactsReport facts, VolumeState? stateAfterNextPass, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(facts);
        var volume = facts.Volume;
        var state = VolumeStates.Parse(volume.State);
        var worker = WorkerStates.Labels.Parse(facts.WorkerState);
        var inState = Age(now - volume.StateChangedAt);
        var workerWaits = !WorkerStates.Collectable.Contains(worker);

        if (state == VolumeState.Destroying)
        {
            var reasons = new List<string> { $"destroying for {inState}" };
            if (volume.DeleteAttempts > 0)
            {
                reasons.Add($"{volume.DeleteAttempts} failed delete attempt(s); last error: {volume.LastDeleteError}");
            }

            return workerWaits
                ? new VolumeVerdict(true, $"being collected, but worker {volume.Worker} is {facts.WorkerState}: its deletion waits until the worker is back", reasons)
                : new VolumeVerdict(true, $"being collected: it is deleted from worker {volume.Worker}, then its row is removed", reasons);
        }

        if (stateAfterNextPass is null)
        {
            var why = volume.MissingSince is { } since
                ? $"worker {volume.Worker} has not reported it since {since.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)}: it is forgotten, with its descendants"
                : $"worker {volume.Worker} is {facts.WorkerState} and is removed with its volumes";
            return new VolumeVerdict(true, "will be removed on the next pass", [why]);
        }

        if (stateAfterNextPass == VolumeState.Destroying)
        {
            var why = facts.Owners.Count == 0
                ? "it has no owner and no child: it is an orphan"
                : "its last owners are released in the same pass: " + string.Join("; ", facts.Owners);
            return new VolumeVerdict(true, $"will be collected on the next pass: marked destroying, then deleted from worker {volume.Worker}", [why]);
        }

        if (stateAfterNextPass == VolumeState.Failed && state != VolumeState.Failed)
        {
            return new VolumeVerdict(true, $"will be failed on the next pass: it has been {volume.State} for {inState}", []);
        }

        var alive = new List<string>(facts.Owners.Select(o => "owned by " + o));
        if (facts.Children is not null)
        {
            alive.Add("parent of " + facts.Children);
        }

        if (volume.MissingSince is { } missing)
        {
            alive.Add($"missing: worker {volume.Worker} has not reported it since {missing.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)}");
        }

        if (workerWaits)
        {
            alive.Add($"worker {volume.Worker} is {facts.WorkerState}: its volumes are not collected meanwhile");
        }

        if (alive.Count == 0)
        {
            alive.Add(state is VolumeState.Creating or VolumeState.Initializing
                ? "it is still being set up; an orphan is collected once it is created or has failed"
                : "nothing holds it, but the next pass would not change it");
        }

        return new VolumeVerdict(false, $"alive: {volume.State} for {inState} on worker {volume.Worker} ({facts.WorkerState})", alive);
    }

    private static string Age(TimeSpan age) => age switch
    {
        { TotalDays: >= 2 } => $"{(int)age.TotalDays} days",
        { TotalHours: >= 2 } => $"{(int)age.TotalHours} hours",
        { TotalMinutes: >= 2 } => $"{(int)age.TotalMinutes} minutes",
        _ => $"{Math.Max(0, (int)age.TotalSeconds)} seconds",
    };
}
