using System.CommandLine;
using Atc.Gc.Database;
using Atc.Gc.Embedded;

namespace Atc.Gc.Cli;

/// <summary>Runs the parsed command and turns the failures an operator can act on into one line on stderr and an exit code.</summary>
public static class CommandRunner
{
    public static async Task<int> RunAsync(RootCommand root, string[] args)
    {
        ArgumentNullException.ThrowIfNull(root);
        var configuration = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
        if (args.Length == 0)
        {
            await root.Parse(["--help"]).InvokeAsync(configuration);
            return ExitCodes.BadInput;
        }

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await Console.Error.WriteLineAsync($"atc-gc: {error.Message.ReplaceLineEndings(" ").Replace("\t", string.Empty, StringComparison.Ordinal)}");
            }

            var command = parse.CommandResult.Command == root ? "atc-gc" : $"atc-gc {parse.CommandResult.Command.Name}";
            await Console.Error.WriteLineAsync($"atc-gc: see '{command} --help'");
            return ExitCodes.BadInput;
        }

        try
        {
            return await parse.InvokeAsync(configuration);
        }
        catch (Exception ex) when (Classify(ex) is { } code)
        {
            await Console.Error.WriteLineAsync($"atc-gc: {OneLine(ex)}");
            return code;
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("atc-gc: cancelled");
            return ExitCodes.Failure;
        }
        catch (Exception ex)
        {
            // Never a crash with a stack trace: one line, exit 1; the details with --verbose.
            await Console.Error.WriteLineAsync($"atc-gc: unexpected failure: {ex.GetType().Name}: {OneLine(ex)}");
            if (parse.Tokens.Any(t => t.Value is "--verbose" or "-v"))
            {
                await Console.Error.WriteLineAsync(ex.ToString());
            }

            return ExitCodes.Failure;
        }
    }

    /// <summary>The message without the parameter name an <see cref="ArgumentException"/> appends, on one line.</summary>
    private static string OneLine(Exception ex)
    {
        if (ex is Npgsql.NpgsqlException npgsql && DatabaseErrors.IsUnavailable(npgsql))
        {
            return $"the database stopped answering: {DatabaseErrors.Describe(npgsql)}";
        }

        if (ex is Npgsql.PostgresException postgres)
        {
            return $"the database refused a value: {postgres.MessageText}".ReplaceLineEndings(" ");
        }

        var message = ex is ArgumentException { ParamName: { } name }
            ? ex.Message.Replace($" (Parameter '{name}')", string.Empty, StringComparison.Ordinal)
            : ex.Message;
        return message.ReplaceLineEndings(" ");
    }

    private static int? Classify(Exception ex) => ex switch
    {
        DatabaseUnavailableException or EmbeddedPostgresException => ExitCodes.DatabaseUnavailable,
        Npgsql.NpgsqlException npgsql when DatabaseErrors.IsUnavailable(npgsql) => ExitCodes.DatabaseUnavailable,
        // Class 22, "data exception": a value the database cannot hold (U+0000 in text, a number out of
        // range) — bad input, refused whole by the transaction it was in.
        Npgsql.PostgresException { SqlState: var state } when state.StartsWith("22", StringComparison.Ordinal) => ExitCodes.BadInput,
        ArgumentException or FormatException or UsageException or Operations.OperatorException
            or Microsoft.Extensions.Options.OptionsValidationException => ExitCodes.BadInput,
        _ => null,
    };
}

/// <summary>Bad input found while running a command (an unknown name, say): one line, exit code 2, nothing changed.</summary>
public sealed class UsageException : Exception
{
    public UsageException(string message)
        : base(message)
    {
    }

    public UsageException()
    {
    }

    public UsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
