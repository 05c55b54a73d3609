namespace Atc.Gc.Database;

/// <summary>
/// An explicit, two-way mapping between a C# enum and the labels of a PostgreSQL enum type. Dapper
/// would send enum values as integers; every state and status crosses the wire as its label instead.
/// </summary>
public sealed class EnumLabels<TEnum>
    where TEnum : struct, Enum
{
    private readonly (TEnum Value, string Label)[] pairs;

    public EnumLabels(string typeName, params (TEnum Value, string Label)[] pairs)
    {
        TypeName = typeName;
        this.pairs = pairs;
        Values = [.. pairs.Select(p => p.Value)];
    }

    /// <summary>The PostgreSQL type name.</summary>
    public string TypeName { get; }

    /// <summary>The mapped values, in the database type's declaration order.</summary>
    public IReadOnlyList<TEnum> Values { get; }

    public IEnumerable<string> Labels => pairs.Select(p => p.Label);

    public string ToDb(TEnum value)
    {
        foreach (var (candidate, label) in pairs)
        {
            if (EqualityComparer<TEnum>.Default.Equals(candidate, value))
            {
                return label;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(value), value, $"{value} has no {TypeName} label");
    }

    /// <summary><c>column = 'a'</c> for one value, <c>column IN ('a', 'b')</c> for several, in the order given.</summary>
    public string InSql(string column, IReadOnlyCollection<TEnum> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return values.Count == 1
            ? $"{column} = '{ToDb(values.First())}'"
            : $"{column} IN ({string.Join(", ", values.Select(v => $"'{ToDb(v)}'"))})";
    }

    public TEnum Parse(string label) => TryParse(label, out var value)
        ? value
        : throw new FormatException($"'{label}' is not a {TypeName} (one of {string.Join(", ", Labels)})");

    public bool TryParse(string? label, out TEnum value)
    {
        foreach (var (candidate, candidateLabel) in pairs)
        {
            if (string.Equals(candidateLabel, label, StringComparison.OrdinalIgnoreCase))
            {
                value = candidate;
                return true;
            }
        }

        value = default;
        return false;
    }
}
