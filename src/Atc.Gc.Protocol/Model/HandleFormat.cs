using System.Text.RegularExpressions;

namespace Atc.Gc.Model;

/// <summary>
/// Volume and container handles: what a worker names a directory after, so they are checked before
/// they reach a database row or a path. The same rule is a CHECK constraint in the schema.
/// </summary>
public static partial class HandleFormat
{
    public const int MaxLength = 128;

    /// <summary>A new, time-ordered handle.</summary>
    public static string New() => Guid.CreateVersion7().ToString();

    public static bool IsValid(string? handle) => handle is not null && Pattern().IsMatch(handle);

    /// <summary>Throws <see cref="ArgumentException"/> with the rule when <paramref name="handle"/> breaks it.</summary>
    public static string Validate(string? handle, string parameterName = "handle") => IsValid(handle)
        ? handle!
        : throw new ArgumentException(
            $"'{handle}' is not a valid handle: 1 to {MaxLength} characters of letters, digits, '.', '_' or '-', starting with a letter or digit",
            parameterName);

    [GeneratedRegex(@"\A[A-Za-z0-9][A-Za-z0-9._-]{0,127}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
