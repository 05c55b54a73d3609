using Atc.Gc.Inspection;
using Atc.Gc.Lifecycle;

namespace Atc.Gc.UnitTests;

public sealed class VolumeVerdictTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_volume_the_next_pass_leaves_alone_is_alive_with_its_owners()
    {
        var verdict = VolumeVerdict.Judge(Facts("initialized", owners: ["container c1 (created) of build 7, started"]), VolumeState.Initialized, Now);

        Assert.False(verdict.Collectable);
        Assert.Equal("alive: initialized for 5 minutes on worker w1 (running)", verdict.Summary);
        Assert.Equal(["owned by container c1 (created) of build 7, started"], verdict.Reasons);
    }

    [Fact]
    public void A_volume_the_next_pass_marks_destroying_is_explained_by_its_released_owners()
    {
        var verdict = VolumeVerdict.Judge(Facts("initialized", owners: ["container c1 (created) of build 7, succeeded, released"]), VolumeState.Destroying, Now);

        Assert.True(verdict.Collectable);
        Assert.StartsWith("will be collected on the next pass", verdict.Summary, StringComparison.Ordinal);
        Assert.Contains("released in the same pass", verdict.Reasons[0], StringComparison.Ordinal);
    }

    [Fact]
    public void An_orphan_is_called_one()
    {
        var verdict = VolumeVerdict.Judge(Facts("created"), VolumeState.Destroying, Now);

        Assert.Equal(["it has no owner and no child: it is an orphan"], verdict.Reasons);
    }

    [Fact]
    public void A_destroying_volume_on_a_stalled_worker_waits_for_it()
    {
        var verdict = VolumeVerdict.Judge(Facts("destroying", worker: "stalled", attempts: 3, error: "timed out"), VolumeState.Destroying, Now);

        Assert.True(verdict.Collectable);
        Assert.Contains("worker w1 is stalled", verdict.Summary, StringComparison.Ordinal);
        Assert.Contains("3 failed delete attempt(s); last error: timed out", verdict.Reasons);
    }

    [Fact]
    public void A_missing_volume_the_next_pass_removes_is_forgotten()
    {
        var verdict = VolumeVerdict.Judge(Facts("initialized", missingSince: Now.AddMinutes(-10)), null, Now);

        Assert.Equal("will be removed on the next pass", verdict.Summary);
        Assert.Contains("has not reported it since 2026-11-22 11:50:00Z", verdict.Reasons[0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_stuck_volume_is_failed_on_the_next_pass()
    {
        var verdict = VolumeVerdict.Judge(Facts("creating"), VolumeState.Failed, Now);

        Assert.Equal("will be failed on the next pass: it has been creating for 5 minutes", verdict.Summary);
    }

    [Fact]
    public void A_parent_is_kept_by_its_children_and_a_stalled_worker_is_named()
    {
        var verdict = VolumeVerdict.Judge(Facts("initialized", worker: "stalled", children: "c-1 (initialized)"), VolumeState.Initialized, Now);

        Assert.Contains("parent of c-1 (initialized)", verdict.Reasons);
        Assert.Contains("worker w1 is stalled: its volumes are not collected meanwhile", verdict.Reasons);
    }

    private static VolumeFactsReport Facts(
        string state, string worker = "running", string[]? owners = null, string? children = null,
        DateTimeOffset? missingSince = null, int attempts = 0, string? error = null) => new(
        new VolumeListing(1, "v-1", "w1", state, null, null, null, null, null, children is null ? 0 : 1,
            Now.AddHours(-1), Now.AddMinutes(-5), missingSince, attempts, error),
        owners ?? [],
        null,
        children,
        worker,
        Now);
}
