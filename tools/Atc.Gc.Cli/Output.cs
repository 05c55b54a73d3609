using System.Text.Json;
using System.Text.Json.Serialization;

namespace Atc.Gc.Cli;

/// <summary>
/// How commands print: tables that fit the terminal when stdout is one, the same rows as plain aligned
/// columns when it is not (stable for scripts), and indented camelCase JSON with --json for programs.
/// </summary>
public static class Output
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static void Json(object value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, JsonOptions));

    public static void Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string?>> rows)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var all = rows.Select(r => r.Select(c => c ?? "-").ToArray()).ToList();
        if (Terminal.IsOutput)
        {
            TerminalTable.Write(headers, all);
            return;
        }

        var widths = headers.Select((h, i) => Math.Max(h.Length, all.Count == 0 ? 0 : all.Max(r => r[i].Length))).ToArray();
        Console.Out.WriteLine(Line(headers));
        foreach (var row in all)
        {
            Console.Out.WriteLine(Line(row));
        }

        string Line(IReadOnlyList<string> cells) =>
            string.Join("  ", cells.Select((c, i) => i == cells.Count - 1 ? c : c.PadRight(widths[i]))).TrimEnd();
    }

    /// <summary>"3m ago", "2h ago": how long ago a moment was.</summary>
    public static string Ago(DateTimeOffset moment)
    {
        var age = DateTimeOffset.UtcNow - moment;
        return age switch
        {
            { TotalSeconds: < 120 } => $"{Math.Max(0, (int)age.TotalSeconds)}s ago",
            { TotalMinutes: < 120 } => $"{(int)age.TotalMinutes}m ago",
            { TotalHours: < 48 } => $"{(int)age.TotalHours}h ago",
            _ => $"{(int)age.TotalDays}d ago",
        };
    }
}
