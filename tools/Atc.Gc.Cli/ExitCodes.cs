namespace Atc.Gc.Cli;

/// <summary>The tool's exit codes (documented in README.md).</summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>An unexpected failure; the message says what.</summary>
    public const int Failure = 1;

    /// <summary>Bad input: an unknown option, name or value; nothing was changed.</summary>
    public const int BadInput = 2;

    /// <summary>The database could not be reached or started; nothing was changed.</summary>
    public const int DatabaseUnavailable = 3;

    /// <summary>A check found a problem (the demo's final check).</summary>
    public const int CheckFailed = 4;
}
