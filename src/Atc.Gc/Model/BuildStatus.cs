using Atc.Gc.Database;

namespace Atc.Gc.Model;

/// <summary>A build's status, as the <c>build_status</c> enum. The last four are terminal (the build is completed).</summary>
public enum BuildStatus
{
    Pending,
    Started,
    Succeeded,
    Failed,
    Errored,
    Aborted,
}

public static class BuildStatuses
{
    public static EnumLabels<BuildStatus> Labels { get; } = new(
        "build_status",
        (BuildStatus.Pending, "pending"),
        (BuildStatus.Started, "started"),
        (BuildStatus.Succeeded, "succeeded"),
        (BuildStatus.Failed, "failed"),
        (BuildStatus.Errored, "errored"),
        (BuildStatus.Aborted, "aborted"));

    public static string ToDb(this BuildStatus status) => Labels.ToDb(status);

    public static bool IsTerminal(this BuildStatus status) =>
        status is BuildStatus.Succeeded or BuildStatus.Failed or BuildStatus.Errored or BuildStatus.Aborted;
}
