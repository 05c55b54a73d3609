using System.Text.RegularExpressions;

namespace Atc.Gc.Model;

/// <summary>Worker names: the same rule as the schema's CHECK on <c>workers.name</c>.</summary>
public static partial class WorkerNames
{
    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);

    public static string Validate(string? name, string parameterName = "name") => IsValid(name)
        ? name!
        : throw new ArgumentException(
            $"'{name}' is not a valid worker name: 1 to 63 characters of letters, digits, '.', '_' or '-', starting with a letter or digit",
            parameterName);

    [GeneratedRegex(@"\A[A-Za-z0-9][A-Za-z0-9._-]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
