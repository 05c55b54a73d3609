namespace Atc.Gc.Embedded;

/// <summary>
/// The embedded directory and the worker token secret must be this user's alone: a directory another
/// user made first (or may write to) would let that user choose the secret every worker token derives
/// from. New ones are created private (0700, 0600); existing ones are checked before anything is read
/// or written, and refused with one line naming the path and the problem.
/// </summary>
internal static class PrivateDirectory
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private const UnixFileMode GroupOrOthersWrite = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;

    private const UnixFileMode GroupOrOthersAny =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>Creates <paramref name="directory"/> (mode 0700) when it is missing, then checks it: see <see cref="Check"/>.</summary>
    public static void Ensure(string directory)
    {
        if (UnixFileStatus.Of(directory, followLinks: true) is null)
        {
            Directory.CreateDirectory(directory, Private);
        }

        Check(directory);
    }

    /// <summary>Refuses a directory that is not one, is not owned by this process's user, or that group or others may write to.</summary>
    public static void Check(string directory)
    {
        var status = UnixFileStatus.Of(directory, followLinks: true)
            ?? throw new EmbeddedPostgresException($"the embedded directory {directory} does not exist");
        if (!status.IsDirectory)
        {
            throw Refused(directory, "is not a directory");
        }

        if (status.Owner != UnixFileStatus.EffectiveUser)
        {
            throw Refused(directory, $"is owned by uid {status.Owner}, not by this user (uid {UnixFileStatus.EffectiveUser})");
        }

        if ((status.Permissions & GroupOrOthersWrite) != 0)
        {
            throw Refused(directory, $"is writable by group or others (mode {status.Octal})");
        }
    }

    /// <summary>
    /// Refuses a secret file that is not a regular file (a symbolic link included), is not owned by this
    /// process's user, or that group or others may read or write. False when there is no file.
    /// </summary>
    public static bool CheckSecret(string file)
    {
        if (UnixFileStatus.Of(file) is not { } status)
        {
            return false;
        }

        if (!status.IsRegularFile)
        {
            throw Refused(file, "is not a regular file");
        }

        if (status.Owner != UnixFileStatus.EffectiveUser)
        {
            throw Refused(file, $"is owned by uid {status.Owner}, not by this user (uid {UnixFileStatus.EffectiveUser})");
        }

        if ((status.Permissions & GroupOrOthersAny) != 0)
        {
            throw Refused(file, $"is open to group or others (mode {status.Octal}; it must be 0600)");
        }

        return true;
    }

    private static EmbeddedPostgresException Refused(string path, string problem) =>
        new($"refusing {path}: it {problem}; the embedded cluster's directory and worker token secret must be private to the user running atc-gc");
}
