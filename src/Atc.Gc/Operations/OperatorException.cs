namespace Atc.Gc.Operations;

/// <summary>An operator named something that does not exist, or asked for something that cannot be done; nothing was changed.</summary>
public sealed class OperatorException : Exception
{
    public OperatorException(string message)
        : base(message)
    {
    }

    public OperatorException()
    {
    }

    public OperatorException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
