namespace Atc.Gc.Lifecycle;

/// <summary>
/// A condition a transition requires, stated twice over the same facts: as a check on
/// <see cref="VolumeFacts"/> (used by the state machine) and as a SQL predicate on a <c>volumes</c>
/// row (used by the statements that persist the transition). Both forms live here, side by side.
/// </summary>
public sealed class VolumeGuard
{
    private readonly Func<VolumeFacts, bool> holds;
    private readonly Func<string, string> sql;

    private VolumeGuard(string name, Func<VolumeFacts, bool> holds, Func<string, string> sql)
    {
        Name = name;
        this.holds = holds;
        this.sql = sql;
    }

    /// <summary>No owner column is set.</summary>
    public static VolumeGuard Unowned { get; } = new(
        "unowned",
        facts => !facts.HasOwner,
        v => $"{v}.container_id IS NULL AND {v}.resource_cache_id IS NULL AND {v}.worker_base_resource_type_id IS NULL AND {v}.task_cache_id IS NULL");

    /// <summary>
    /// No copy-on-write child references the volume. <c>OFFSET 0</c> keeps the subquery from being
    /// turned into an anti-join, which the planner may run as a merge over every child in the table
    /// for each chunk; as written it is one index probe per candidate, whatever the table's size.
    /// </summary>
    public static VolumeGuard Childless { get; } = new(
        "childless",
        facts => !facts.HasChildren,
        v => $"NOT EXISTS (SELECT 1 FROM volumes child WHERE child.parent_id = {v}.id OFFSET 0)");

    /// <summary>Its worker stopped reporting it.</summary>
    public static VolumeGuard Missing { get; } = new(
        "missing",
        facts => facts.IsMissing,
        v => $"{v}.missing_since IS NOT NULL");

    public static IReadOnlyList<VolumeGuard> All { get; } = [Unowned, Childless, Missing];

    /// <summary>No owner and no child (<see cref="VolumeFacts.Orphan"/>), as a predicate on the <c>volumes</c> row aliased <paramref name="alias"/>.</summary>
    public static string OrphanSql(string alias) => $"{Unowned.Sql(alias)} AND {Childless.Sql(alias)}";

    /// <summary>The guard's name, also its label in the state machine and its diagrams.</summary>
    public string Name { get; }

    public bool Holds(VolumeFacts facts) => holds(facts);

    /// <summary>The guard as a predicate on the <c>volumes</c> row aliased <paramref name="alias"/>.</summary>
    public string Sql(string alias) => sql(alias);

    public static VolumeGuard FromName(string name) =>
        All.FirstOrDefault(g => g.Name == name)
        ?? throw new InvalidOperationException($"the lifecycle uses a guard '{name}' that has no SQL form");

    public override string ToString() => Name;
}
