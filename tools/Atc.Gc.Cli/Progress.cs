using Spectre.Console;

namespace Atc.Gc.Cli;

/// <summary>A spinner on stderr while something long runs, only when stderr is a terminal; otherwise just the work.</summary>
public static class Progress
{
    public static Task<T> RunAsync<T>(string status, Func<Task<T>> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return Terminal.IsError
            ? Terminal.Error.Status().StartAsync(Markup.Escape(status), _ => work())
            : work();
    }
}
