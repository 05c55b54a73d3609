using System.Diagnostics;
using System.Text.Json;
using Atc.Gc.Model;
using Microsoft.Extensions.Logging;

namespace Atc.Gc.Agent;

/// <summary>A volume on this worker's disk.</summary>
public sealed record VolumeInfo(string Handle, long SizeBytes, DateTimeOffset CreatedAt, string? Parent, IReadOnlyDictionary<string, string> Properties);

/// <summary>How a new volume starts: empty, or a copy-on-write copy of a parent's content.</summary>
public sealed record VolumeStrategy(string Type, string? Parent = null)
{
    public static VolumeStrategy Empty { get; } = new("empty");

    public static VolumeStrategy CopyOf(string parent) => new("cow", parent);
}

/// <summary>Why a volume could not be created.</summary>
public enum CreateOutcome
{
    Created,
    AlreadyExists,
    ParentNotFound,
}

/// <summary>
/// Volumes as directories under a root, safe against crashes at any point:
/// <c>volumes/&lt;handle&gt;/</c> holds a volume (<c>data/</c> and <c>volume.json</c>). A volume is
/// assembled in <c>creating/</c> and renamed into place in one step, so a half-made volume never
/// appears; a deleted one is first renamed into <c>dead/</c> (one step: it is gone from the listing)
/// and then removed. <see cref="Recover"/> clears both areas on start.
/// </summary>
public sealed class VolumeStore
{
    private const string MetadataFile = "volume.json";
    private const string DataDirectory = "data";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly ILogger<VolumeStore> logger;

    public VolumeStore(string root, ILogger<VolumeStore> logger)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        this.logger = logger;
        Root = Path.GetFullPath(root);
        Directory.CreateDirectory(VolumesPath);
        Directory.CreateDirectory(CreatingPath);
        Directory.CreateDirectory(DeadPath);
    }

    public string Root { get; }

    private string VolumesPath => Path.Combine(Root, "volumes");

    private string CreatingPath => Path.Combine(Root, "creating");

    private string DeadPath => Path.Combine(Root, "dead");

    /// <summary>Finishes what a crash interrupted: half-created volumes and half-deleted ones are removed.</summary>
    public int Recover()
    {
        var cleaned = 0;
        foreach (var leftover in Directory.EnumerateDirectories(CreatingPath).Concat(Directory.EnumerateDirectories(DeadPath)))
        {
            Directory.Delete(leftover, recursive: true);
            cleaned++;
        }

        foreach (var volume in Directory.EnumerateDirectories(VolumesPath))
        {
            if (!File.Exists(Path.Combine(volume, MetadataFile)) || !HandleFormat.IsValid(Path.GetFileName(volume)))
            {
                // Not something this store made: move it out of the listing and remove it.
                Directory.Delete(volume, recursive: true);
                cleaned++;
            }
        }

        if (cleaned > 0)
        {
            logger.LogInformation("Recovered the volume store in {Root}: removed {Count} leftovers of interrupted work", Root, cleaned);
        }

        return cleaned;
    }

    /// <summary>The directory holding a volume's content (what a container would mount).</summary>
    public string DataPathOf(string handle) => Path.Combine(VolumePath(handle), DataDirectory);

    public async Task<(CreateOutcome Outcome, VolumeInfo? Volume)> CreateAsync(
        string handle, VolumeStrategy strategy, IReadOnlyDictionary<string, string> properties, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        var target = VolumePath(handle);
        if (Directory.Exists(target))
        {
            return (CreateOutcome.AlreadyExists, null);
        }

        string? parentData = null;
        if (strategy.Parent is { } parent)
        {
            parentData = DataPathOf(parent);
            if (!Directory.Exists(parentData))
            {
                return (CreateOutcome.ParentNotFound, null);
            }
        }

        var staging = Path.Combine(CreatingPath, $"{handle}.{Guid.NewGuid():N}");
        var stagedData = Path.Combine(staging, DataDirectory);
        try
        {
            Directory.CreateDirectory(staging);
            if (parentData is null)
            {
                Directory.CreateDirectory(stagedData);
            }
            else
            {
                await CopyTreeAsync(parentData, stagedData, cancellationToken);
            }

            var createdAt = DateTimeOffset.UtcNow;
            var metadata = new Metadata(handle, createdAt, strategy.Parent, new Dictionary<string, string>(properties));
            await File.WriteAllTextAsync(Path.Combine(staging, MetadataFile), JsonSerializer.Serialize(metadata, Json), cancellationToken);
            try
            {
                Directory.Move(staging, target);
            }
            catch (IOException) when (Directory.Exists(target))
            {
                return (CreateOutcome.AlreadyExists, null);
            }

            return (CreateOutcome.Created, new VolumeInfo(handle, SizeOf(Path.Combine(target, DataDirectory)), createdAt, strategy.Parent, metadata.Properties));
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    /// <summary>Deletes a volume. False when there was no such volume (already deleted: still success for callers).</summary>
    public bool Delete(string handle)
    {
        var source = VolumePath(handle);
        var grave = Path.Combine(DeadPath, $"{handle}.{Guid.NewGuid():N}");
        try
        {
            Directory.Move(source, grave);
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }

        Directory.Delete(grave, recursive: true);
        return true;
    }

    /// <summary>Handles whose data is still being removed (in <c>dead/</c>): not gone yet.</summary>
    public IReadOnlyList<string> Deleting()
    {
        var handles = new List<string>();
        foreach (var grave in Directory.EnumerateDirectories(DeadPath))
        {
            var name = Path.GetFileName(grave);
            var dot = name.LastIndexOf('.');
            if (dot > 0 && HandleFormat.IsValid(name[..dot]))
            {
                handles.Add(name[..dot]);
            }
        }

        return handles;
    }

    public VolumeInfo? Find(string handle)
    {
        var path = VolumePath(handle);
        return Directory.Exists(path) ? Read(path, withSize: true) : null;
    }

    /// <summary>Every volume; sizes are computed only when asked for (they walk the content).</summary>
    public IReadOnlyList<VolumeInfo> List(bool withSizes)
    {
        var volumes = new List<VolumeInfo>();
        foreach (var path in Directory.EnumerateDirectories(VolumesPath))
        {
            if (Read(path, withSizes) is { } volume)
            {
                volumes.Add(volume);
            }
        }

        return volumes;
    }

    private string VolumePath(string handle) => Path.Combine(VolumesPath, HandleFormat.Validate(handle));

    private static VolumeInfo? Read(string path, bool withSize)
    {
        try
        {
            var metadata = JsonSerializer.Deserialize<Metadata>(File.ReadAllText(Path.Combine(path, MetadataFile)), Json);
            return metadata is null
                ? null
                : new VolumeInfo(metadata.Handle, withSize ? SizeOf(Path.Combine(path, DataDirectory)) : 0, metadata.CreatedAt, metadata.Parent, metadata.Properties);
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            // Deleted while being read, or not a volume.
            return null;
        }
    }

    private static long SizeOf(string directory)
    {
        try
        {
            return new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
        }
        catch (DirectoryNotFoundException)
        {
            return 0;
        }
    }

    /// <summary>
    /// Copies a parent's content for a copy-on-write child: <c>cp --reflink=auto</c> shares blocks where
    /// the filesystem supports it (btrfs, XFS) and copies otherwise; without cp, a plain managed copy.
    /// </summary>
    private static async Task CopyTreeAsync(string source, string destination, CancellationToken cancellationToken)
    {
        if (File.Exists("/bin/cp") || File.Exists("/usr/bin/cp"))
        {
            var start = new ProcessStartInfo("cp") { RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in (string[])["--reflink=auto", "-a", "--", source, destination])
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start) ?? throw new IOException("could not run cp");
            var error = await process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            if (process.ExitCode != 0)
            {
                throw new IOException($"copying the parent volume failed: {error.Trim()}");
            }

            return;
        }

        Directory.CreateDirectory(destination);
        foreach (var directory in Directory.EnumerateDirectories(source, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(destination, Path.GetRelativePath(source, directory)));
        }

        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(destination, Path.GetRelativePath(source, file)));
        }
    }

    private sealed record Metadata(string Handle, DateTimeOffset CreatedAt, string? Parent, Dictionary<string, string> Properties);
}
