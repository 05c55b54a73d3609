using System.Net.Sockets;
using Npgsql;

namespace Atc.Gc.Database;

/// <summary>Tells "the database cannot be reached or went away" from errors of the statements themselves.</summary>
public static class DatabaseErrors
{
    /// <summary>
    /// Cannot connect or the connection broke (network, reset, end of stream), the server is shutting
    /// down or starting, the session was terminated, too many connections, no such database, cannot log in.
    /// </summary>
    public static bool IsUnavailable(NpgsqlException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception switch
        {
            PostgresException pg => pg.SqlState.StartsWith("08", StringComparison.Ordinal)
                || pg.SqlState.StartsWith("28", StringComparison.Ordinal)
                || pg.SqlState.StartsWith("57P", StringComparison.Ordinal)
                || pg.SqlState is PostgresErrorCodes.TooManyConnections or PostgresErrorCodes.InvalidCatalogName,
            _ => true,
        };
    }

    /// <summary>The innermost useful message, on one line.</summary>
    public static string Describe(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var innermost = exception;
        while (innermost.InnerException is not null && innermost is not PostgresException && innermost is not SocketException)
        {
            innermost = innermost.InnerException;
        }

        return innermost.Message.Split('\n')[0].Trim();
    }
}
