using System.Diagnostics;
using System.Reflection;

namespace Atc.Gc.Hosting;

/// <summary>Starting another instance of the running program (an agent for the demo, a measured pass for the benchmarks).</summary>
public static class SelfProcess
{
    /// <summary>
    /// A start for this program with <paramref name="arguments"/>: the apphost when the program runs
    /// as one, else <c>dotnet</c> with the entry assembly.
    /// </summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var host = Environment.ProcessPath ?? "dotnet";
        var start = new ProcessStartInfo(host) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.ArgumentList.Add((Assembly.GetEntryAssembly() ?? throw new InvalidOperationException("no entry assembly")).Location);
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    /// <summary>This process's peak resident memory (VmHWM), in bytes; 0 where /proc is not available.</summary>
    public static long PeakResidentBytes()
    {
        const string Status = "/proc/self/status";
        if (!File.Exists(Status))
        {
            return 0;
        }

        var line = File.ReadLines(Status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        var kilobytes = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        return kilobytes is null ? 0 : long.Parse(kilobytes, System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }
}
