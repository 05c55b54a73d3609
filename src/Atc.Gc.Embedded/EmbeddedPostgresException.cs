namespace Atc.Gc.Embedded;

/// <summary>The embedded PostgreSQL cluster could not be found, created or started. The message is one line for the operator.</summary>
public sealed class EmbeddedPostgresException : Exception
{
    public EmbeddedPostgresException(string message)
        : base(message)
    {
    }

    public EmbeddedPostgresException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public EmbeddedPostgresException()
    {
    }
}
