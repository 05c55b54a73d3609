using Npgsql;

namespace Atc.Gc.Database;

/// <summary>Classifies the PostgreSQL errors that the lifecycle turns into typed results.</summary>
internal static class PostgresErrors
{
    public static bool IsForeignKeyViolation(this Exception exception, string? constraint = null) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.ForeignKeyViolation } pg
        && (constraint is null || pg.ConstraintName == constraint);

    public static bool IsUniqueViolation(this Exception exception, string? constraint = null) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } pg
        && (constraint is null || pg.ConstraintName == constraint);

    /// <summary>Serialization failures and deadlocks: the statement can simply be run again.</summary>
    public static bool IsTransient(this Exception exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected };
}
