namespace Atc.Gc.Database;

/// <summary>No database is configured, or the configured one could not be reached or used. The message is one line for the operator.</summary>
public sealed class DatabaseUnavailableException : Exception
{
    public DatabaseUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public DatabaseUnavailableException(string message)
        : base(message)
    {
    }

    public DatabaseUnavailableException()
    {
    }
}
