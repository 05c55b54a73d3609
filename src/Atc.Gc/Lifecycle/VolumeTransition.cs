namespace Atc.Gc.Lifecycle;

/// <summary>
/// One trigger of the lifecycle as the database sees it: the states it may fire from, the state it
/// leads to and the guards it needs, with the SQL predicate that expresses all of that.
/// </summary>
public sealed record VolumeTransition(
    VolumeTrigger Trigger,
    IReadOnlyList<VolumeState> From,
    VolumeState To,
    IReadOnlyList<VolumeGuard> Guards)
{
    /// <summary>True when the row is deleted rather than updated.</summary>
    public bool DeletesRow => To == VolumeState.Gone;

    /// <summary><c>v.state IN (...)</c>, the from-states in the database enum's order.</summary>
    public string FromStatesSql(string alias) => VolumeStates.Labels.InSql($"{alias}.state", From);

    /// <summary>The guards as one SQL predicate (<c>true</c> when there are none).</summary>
    public string GuardsSql(string alias) =>
        Guards.Count == 0 ? "true" : string.Join(" AND ", Guards.Select(g => g.Sql(alias)));

    /// <summary>The whole condition under which a row may take this transition.</summary>
    public string PredicateSql(string alias) =>
        Guards.Count == 0 ? FromStatesSql(alias) : $"{FromStatesSql(alias)} AND {GuardsSql(alias)}";
}
