namespace Atc.Gc.Model;

/// <summary>
/// Text that reaches a database row: PostgreSQL refuses U+0000 in <c>text</c> and <c>jsonb</c>, and a
/// control character in a name, an image or a version is never meant. Checked at the boundary so a
/// caller gets a clear refusal (400, exit code 2) instead of a database error.
/// </summary>
public static class StorableText
{
    /// <summary>True when <paramref name="text"/> holds no control character (U+0000 included) and no lone surrogate.</summary>
    public static bool IsStorable(string? text)
    {
        if (text is null)
        {
            return true;
        }

        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsControl(c))
            {
                return false;
            }

            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming <paramref name="what"/> when <paramref name="text"/> is not storable or longer than <paramref name="maxLength"/>.</summary>
    public static string? Require(string? text, string what, int maxLength, string parameterName)
    {
        if (!IsStorable(text))
        {
            throw new ArgumentException($"{what} must not contain control characters (U+0000 included)", parameterName);
        }

        return text is not null && text.Length > maxLength
            ? throw new ArgumentException($"{what} must be at most {maxLength} characters", parameterName)
            : text;
    }
}
