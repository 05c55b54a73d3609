using Atc.Gc.Agent.Native;

namespace Atc.Gc.Agent.Storage;

/// <summary>
/// The disk space a directory tree takes, as <c>du -x</c> counts it: allocated blocks, symbolic links
/// never followed, other filesystems (mounts inside) not entered, a file with several hard links
/// counted once. The work is bounded: at most a number of entries, and cancellable between entries.
/// </summary>
internal static class DiskUsage
{
    /// <summary>The bytes under <paramref name="directory"/>, and false in <c>Complete</c> when the walk stopped at <paramref name="maxEntries"/>.</summary>
    public static (long Bytes, bool Complete) Measure(string directory, long maxEntries, CancellationToken cancellationToken)
    {
        if (FileStatus.Of(directory) is not { IsDirectory: true } top)
        {
            return (0, true);
        }

        var bytes = top.AllocatedBytes;
        var linked = new HashSet<ulong>();
        var pending = new Stack<string>();
        pending.Push(directory);
        long entries = 0;
        while (pending.TryPop(out var current))
        {
            List<string> children;
            try
            {
                children = [.. Directory.EnumerateFileSystemEntries(current)];
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            foreach (var child in children)
            {
                if (++entries > maxEntries)
                {
                    return (bytes, false);
                }

                if ((entries & 0xFF) == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                if (FileStatus.Of(child) is not { } status || status.Device != top.Device)
                {
                    continue;
                }

                if (status.Links > 1 && !status.IsDirectory && !linked.Add(status.Inode))
                {
                    continue;
                }

                bytes += status.AllocatedBytes;
                if (status.IsDirectory)
                {
                    pending.Push(child);
                }
            }
        }

        return (bytes, true);
    }
}
