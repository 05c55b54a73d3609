using Spectre.Console;

namespace Atc.Gc.Cli;

/// <summary>
/// Which standard streams are terminals. Tables, spinners and questions are for people at a terminal;
/// a pipe, a file or a script gets the plain, stable output.
/// </summary>
public static class Terminal
{
    public static bool IsOutput => !Console.IsOutputRedirected;

    public static bool IsError => !Console.IsErrorRedirected;

    public static bool IsInput => !Console.IsInputRedirected;

    /// <summary>A Spectre console on stdout (tables).</summary>
    public static IAnsiConsole Out { get; } = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });

    /// <summary>A Spectre console on stderr (spinners), so that stdout holds only results.</summary>
    public static IAnsiConsole Error { get; } = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
}
