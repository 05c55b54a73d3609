using Atc.Gc.Agent.Native;

namespace Atc.Gc.Agent.Storage;

/// <summary>
/// Removes a directory tree the way <c>rm -rf --one-file-system</c> would, and more carefully: every
/// mount under it is detached first (a volume's own overlay, or anything mounted into a volume), links
/// are removed, never followed, and whatever can be removed is, even when some entry cannot be — the
/// first failure is reported at the end. Cancellation stops between entries.
/// </summary>
internal static class Tree
{
    public static void Remove(string directory, CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(directory) && !File.Exists(directory))
        {
            return;
        }

        var mounted = Mounts.MountPoints();
        foreach (var point in Mounts.Under(directory, mounted))
        {
            if (Mounts.Detach(point))
            {
                mounted.Remove(point);
            }
        }

        var failures = 0;
        Exception? first = null;
        RemoveEntries(directory, mounted, ref failures, ref first, cancellationToken);
        if (TryRun(() => Directory.Delete(directory), ref failures, ref first) && failures == 0)
        {
            return;
        }

        if (first is not null)
        {
            throw new IOException(
                failures == 1 ? first.Message : $"{failures} entries could not be removed; the first: {first.Message}", first);
        }
    }

    private static void RemoveEntries(string directory, HashSet<string> mounted, ref int failures, ref Exception? first, CancellationToken cancellationToken)
    {
        List<string> entries;
        try
        {
            entries = [.. Directory.EnumerateFileSystemEntries(directory)];
        }
        catch (DirectoryNotFoundException)
        {
            return;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            failures++;
            first ??= Describe(ex);
            return;
        }

        var count = 0;
        foreach (var entry in entries)
        {
            if ((++count & 0xFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            var status = FileStatus.Of(entry);
            if (status is null)
            {
                continue;
            }

            if (status.Value.IsDirectory && mounted.Contains(entry))
            {
                // Something is still mounted here (it could not be detached): never remove another filesystem's files.
                failures++;
                first ??= new IOException($"a filesystem is still mounted at {entry}");
            }
            else if (status.Value.IsDirectory)
            {
                RemoveEntries(entry, mounted, ref failures, ref first, cancellationToken);
                TryRun(() => Directory.Delete(entry), ref failures, ref first);
            }
            else
            {
                TryRun(() => File.Delete(entry), ref failures, ref first);
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
    }

    private static bool TryRun(Action remove, ref int failures, ref Exception? first)
    {
        try
        {
            remove();
            return true;
        }
        catch (DirectoryNotFoundException)
        {
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            failures++;
            first ??= Describe(ex);
            return false;
        }
    }

    /// <summary>The message with the operating system's reason ("Access to the path … is denied" says less than "Operation not permitted").</summary>
    private static Exception Describe(Exception ex) =>
        ex.InnerException is { } inner && !ex.Message.Contains(inner.Message, StringComparison.Ordinal)
            ? new IOException($"{ex.Message.TrimEnd('.')}: {inner.Message}", ex)
            : ex;
}
