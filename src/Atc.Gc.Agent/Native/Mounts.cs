using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;

namespace Atc.Gc.Agent.Native;

/// <summary>Mounting and unmounting (<c>mount(2)</c>, <c>umount2(2)</c>) and the mount table (<c>/proc/self/mountinfo</c>).</summary>
internal static class Mounts
{
    private const int DetachFlag = 2; // MNT_DETACH
    private const int NotMounted = 22; // EINVAL: not a mount point
    private const int NoSuchEntry = 2;
    private static readonly SearchValues<char> OctalDigits = SearchValues.Create("01234567");

    /// <summary>Mounts a filesystem of <paramref name="type"/> at <paramref name="target"/> with <paramref name="options"/>.</summary>
    public static void Mount(string type, string target, string options)
    {
        if (NativeMethods.mount(type, target, type, 0, options) != 0)
        {
            var error = Marshal.GetLastPInvokeError();
            throw new IOException($"mounting {type} at {target} failed: {Marshal.GetPInvokeErrorMessage(error)}");
        }
    }

    /// <summary>
    /// Detaches the mount at <paramref name="target"/> (lazily: it goes from the tree at once and is
    /// released when the last user lets go). False when nothing was mounted there.
    /// </summary>
    public static bool Detach(string target)
    {
        if (NativeMethods.umount2(target, DetachFlag) == 0)
        {
            return true;
        }

        var error = Marshal.GetLastPInvokeError();
        return error is NotMounted or NoSuchEntry
            ? false
            : throw new IOException($"unmounting {target} failed: {Marshal.GetPInvokeErrorMessage(error)}");
    }

    /// <summary>Every mount point at or under <paramref name="directory"/>, deepest first.</summary>
    public static IReadOnlyList<string> Under(string directory, IReadOnlySet<string>? mountPoints = null)
    {
        var prefix = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        return [.. (mountPoints ?? MountPoints())
            .Where(m => m == prefix || m.StartsWith(prefix + "/", StringComparison.Ordinal))
            .OrderByDescending(m => m.Length)];
    }

    /// <summary>Every mount point of this process's mount namespace.</summary>
    public static HashSet<string> MountPoints()
    {
        var points = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            // "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw": the fifth field is the mount point.
            var fields = line.Split(' ', 6);
            if (fields.Length >= 5)
            {
                points.Add(Unescape(fields[4]));
            }
        }

        return points;
    }

    /// <summary>Detaches every mount under <paramref name="directory"/> (deepest first); the number detached.</summary>
    public static int DetachAllUnder(string directory)
    {
        var detached = 0;
        foreach (var point in Under(directory))
        {
            if (Detach(point))
            {
                detached++;
            }
        }

        return detached;
    }

    /// <summary>mountinfo escapes space, tab, newline and backslash as \ooo octal.</summary>
    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var bytes = new List<byte>(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && IsOctal(field, i + 1))
            {
                bytes.Add(Convert.ToByte(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(field[i].ToString()));
            }
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }

    private static bool IsOctal(string text, int start) =>
        start + 3 <= text.Length && text.AsSpan(start, 3).IndexOfAnyExcept(OctalDigits) < 0;

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int mount(
            [MarshalAs(UnmanagedType.LPUTF8Str)] string source,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string target,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string filesystemType,
            nuint flags,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string data);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int umount2([MarshalAs(UnmanagedType.LPUTF8Str)] string target, int flags);
    }
}
