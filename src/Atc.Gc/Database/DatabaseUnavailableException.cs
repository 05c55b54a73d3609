namespace Atc.Gc.Database;

/// <summary>The configured database could not be reached or used. The message is one line for the operator.</summary>
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
