using System.Globalization;
using System.Text;

namespace Atc.Gc.Model;

/// <summary>
/// A short, single-line, printable excerpt of text that came from elsewhere (a worker's answer, an
/// exception message, a caller's input echoed in an error): control and format characters (line
/// breaks, U+0000, bidirectional overrides) become spaces, runs of spaces one, and it is cut at a
/// bound — safe to store in a row, to log and to show in a terminal.
/// </summary>
public static class Excerpt
{
    /// <summary>The longest excerpt kept in a stored error (e.g. <c>volumes.last_delete_error</c>).</summary>
    public const int StoredLength = 300;

    public static string Of(string? text, int maxLength = StoredLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        var builder = new StringBuilder(Math.Min(text.Length, maxLength + 1));
        var space = false;
        for (var i = 0; i < text.Length && builder.Length <= maxLength; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                builder.Append(c).Append(text[++i]);
                space = false;
                continue;
            }

            var blank = char.IsWhiteSpace(c) || char.IsControl(c) || char.IsSurrogate(c)
                || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;
            if (blank)
            {
                if (!space && builder.Length > 0)
                {
                    builder.Append(' ');
                }

                space = true;
            }
            else
            {
                builder.Append(c);
                space = false;
            }
        }

        var result = builder.ToString().TrimEnd();
        if (result.Length <= maxLength)
        {
            return result;
        }

        var cut = char.IsHighSurrogate(result[maxLength - 2]) ? maxLength - 2 : maxLength - 1;
        return string.Concat(result.AsSpan(0, cut).TrimEnd(), "…");
    }
}
