using Atc.Gc.Embedded;

namespace Atc.Gc.Hosting;

/// <summary>
/// A secret kept in a file (a worker's token: <c>atc-gc worker --token-file</c>) instead of on a
/// command line, where every local user could read it in <c>/proc/&lt;pid&gt;/cmdline</c>. The file
/// must be a regular file owned by the user reading it that neither group nor others may read or
/// write (0600 or 0400); the checks are made on the file opened, not on its name, so it cannot be
/// swapped between the check and the read.
/// </summary>
public static class PrivateFile
{
    private const int MaxSecretBytes = 64 * 1024;

    private const UnixFileMode GroupOrOthersAny =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>The file's content without surrounding white space; <see cref="InvalidOperationException"/> naming the path and the problem when it is refused.</summary>
    public static string ReadSecret(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"cannot read {path}: {ex.Message}", ex);
        }

        using (stream)
        {
            UnixFileStatus.Status? status;
            try
            {
                status = UnixFileStatus.Of($"/proc/self/fd/{stream.SafeFileHandle.DangerousGetHandle()}", followLinks: true);
            }
            catch (EmbeddedPostgresException ex)
            {
                throw new InvalidOperationException($"cannot check {path}: {ex.Message}", ex);
            }

            if (status is not { IsRegularFile: true } file)
            {
                throw Refused(path, "is not a regular file");
            }

            if (file.Owner != UnixFileStatus.EffectiveUser)
            {
                throw Refused(path, $"is owned by uid {file.Owner}, not by this user (uid {UnixFileStatus.EffectiveUser})");
            }

            if ((file.Permissions & GroupOrOthersAny) != 0)
            {
                throw Refused(path, $"is open to group or others (mode {file.Octal}; it must be 0600 or 0400)");
            }

            if (stream.Length > MaxSecretBytes)
            {
                throw Refused(path, $"is larger than {MaxSecretBytes} bytes");
            }

            using var reader = new StreamReader(stream);
            var secret = reader.ReadToEnd().Trim();
            return secret.Length > 0 ? secret : throw Refused(path, "is empty");
        }
    }

    private static InvalidOperationException Refused(string path, string problem) => new($"refusing {path}: it {problem}");
}
