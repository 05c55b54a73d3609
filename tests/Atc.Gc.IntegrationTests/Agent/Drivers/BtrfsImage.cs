using Atc.Gc.IntegrationTests.Infrastructure;

namespace Atc.Gc.IntegrationTests.Agent.Drivers;

/// <summary>A btrfs filesystem for the btrfs driver's tests: a sparse image file, formatted and loop-mounted, removed at the end.</summary>
public sealed class BtrfsImage : IAsyncLifetime
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), $"atc-gc-btrfs-{Guid.NewGuid():N}"[..24]);

    /// <summary>Why btrfs cannot be tested here; null when it can.</summary>
    public static string? Unavailable { get; } =
        !Environment.IsPrivilegedProcess ? "needs root: the btrfs driver's tests loop-mount a btrfs image"
        : !File.Exists("/sbin/mkfs.btrfs") && !File.Exists("/usr/sbin/mkfs.btrfs") ? "mkfs.btrfs is not installed (apt-get install btrfs-progs)"
        : Atc.Gc.Agent.Drivers.BtrfsDriver.Program is null ? "the btrfs program is not installed (apt-get install btrfs-progs)"
        : null;

    private string Image => directory + ".img";

    /// <summary>A fresh directory on the mounted filesystem.</summary>
    public string NewDirectory()
    {
        var path = Path.Combine(directory, Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path);
        return path;
    }

    public async Task InitializeAsync()
    {
        if (Unavailable is not null)
        {
            return;
        }

        Directory.CreateDirectory(directory);
        await using (var file = File.Create(Image))
        {
            file.SetLength(512L * 1024 * 1024);
        }

        await Command.RequireAsync("mkfs.btrfs", "-q", Image);
        await Command.RequireAsync("mount", "-o", "loop", Image, directory);
    }

    public async Task DisposeAsync()
    {
        if (Unavailable is not null)
        {
            return;
        }

        await Command.RunAsync("umount", [directory]);
        Directory.Delete(directory, recursive: true);
        File.Delete(Image);
    }
}
