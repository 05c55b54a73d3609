using System.CommandLine;
using System.Globalization;

namespace Atc.Gc.Cli;

/// <summary>Options whose values need parsing, reported as ordinary parse errors (exit code 2) when malformed.</summary>
public static class CliOptions
{
    public static Option<Uri?> Url(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
            if (Uri.TryCreate(text, UriKind.Absolute, out var url) && url.Scheme is "http" or "https")
            {
                return url;
            }

            result.AddError($"{name}: '{text}' is not an absolute http or https URL");
            return null;
        },
    };

    /// <summary>A duration as <c>hh:mm:ss</c> or with a unit: <c>500ms</c>, <c>10s</c>, <c>5m</c>, <c>1h</c>.</summary>
    public static Option<TimeSpan?> Duration(string name, string description) => new(name)
    {
        Description = description + " (e.g. 10s, 500ms, 5m, 00:01:00)",
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
            if (TryParseDuration(text, out var value) && value > TimeSpan.Zero)
            {
                return value;
            }

            result.AddError($"{name}: '{text}' is not a positive duration (e.g. 10s, 500ms, 5m, 00:01:00)");
            return null;
        },
    };

    public static bool TryParseDuration(string text, out TimeSpan value)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var (suffix, unit) in new (string, TimeSpan)[]
                 {
                     ("ms", TimeSpan.FromMilliseconds(1)), ("s", TimeSpan.FromSeconds(1)), ("m", TimeSpan.FromMinutes(1)), ("h", TimeSpan.FromHours(1)),
                 })
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal)
                && double.TryParse(text[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount))
            {
                value = unit * amount;
                return true;
            }
        }

        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value);
    }
}
