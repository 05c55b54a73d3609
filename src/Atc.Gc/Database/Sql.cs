using System.Data;
using Dapper;

namespace Atc.Gc.Database;

/// <summary>
/// Dapper set-up shared by every repository. Timestamps are UTC <see cref="DateTimeOffset"/> both
/// ways; enums never go through Dapper (it would send integers): states travel as their labels.
/// </summary>
internal static class Sql
{
    static Sql()
    {
        DefaultTypeMap.MatchNamesWithUnderscores = true;
        SqlMapper.AddTypeHandler(new UtcDateTimeOffsetHandler());
        SqlMapper.AddTypeHandler(new NullableUtcDateTimeOffsetHandler());
    }

    public static CommandDefinition Command(string sql, object? parameters, CancellationToken cancellationToken, IDbTransaction? transaction = null) =>
        new(sql, parameters, transaction, cancellationToken: cancellationToken);

    private static DateTimeOffset ToUtc(object value) => value switch
    {
        DateTime dateTime => new DateTimeOffset(DateTime.SpecifyKind(dateTime, DateTimeKind.Utc)),
        DateTimeOffset offset => offset.ToUniversalTime(),
        _ => throw new DataException($"cannot read {value.GetType().Name} as a timestamp"),
    };

    private sealed class UtcDateTimeOffsetHandler : SqlMapper.TypeHandler<DateTimeOffset>
    {
        public override void SetValue(IDbDataParameter parameter, DateTimeOffset value) => parameter.Value = value.ToUniversalTime();

        public override DateTimeOffset Parse(object value) => ToUtc(value);
    }

    private sealed class NullableUtcDateTimeOffsetHandler : SqlMapper.TypeHandler<DateTimeOffset?>
    {
        public override void SetValue(IDbDataParameter parameter, DateTimeOffset? value) =>
            parameter.Value = value is { } v ? v.ToUniversalTime() : DBNull.Value;

        public override DateTimeOffset? Parse(object value) => value is DBNull ? null : ToUtc(value);
    }
}
