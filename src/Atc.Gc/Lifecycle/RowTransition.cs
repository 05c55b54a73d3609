using Atc.Gc.Database;

namespace Atc.Gc.Lifecycle;

/// <summary>
/// One trigger of a lifecycle whose guards live in the caller's statement (workers, containers): the
/// from-states and the destination as SQL on a row with a <c>state</c> and a <c>state_changed_at</c> column.
/// </summary>
public sealed class RowTransition<TState, TTrigger>(CompiledTransition<TState, TTrigger> definition, EnumLabels<TState> labels)
    where TState : struct, Enum
{
    public TTrigger Trigger => definition.Trigger;

    public IReadOnlyList<TState> From => definition.From;

    public TState To => definition.To;

    /// <summary>True when the row is deleted rather than updated: the destination is no label of the database enum.</summary>
    public bool DeletesRow => !labels.Values.Contains(To);

    /// <summary><c>alias.state IN (...)</c>, the from-states.</summary>
    public string FromStatesSql(string alias) => labels.InSql($"{alias}.state", From);

    /// <summary>The destination's label, quoted as a SQL literal.</summary>
    public string ToSql => $"'{labels.ToDb(To)}'";

    /// <summary>The assignments of an <c>UPDATE</c> that takes the transition.</summary>
    public string SetStateSql => $"state = {ToSql}, state_changed_at = now()";

    /// <summary>The from-states' labels, for messages: <c>stalled or landed</c>.</summary>
    public string FromLabels => string.Join(" or ", From.Select(labels.ToDb));

    public override string ToString() => $"{Trigger}: {string.Join(",", From)} -> {To}";
}
