using Atc.Gc.Agent.Native;
using Atc.Gc.Agent.Storage;

namespace Atc.Gc.Agent.Drivers;

/// <summary>
/// Plain directories; a child is a full copy of its parent's data (<c>cp --reflink=auto -a</c>, which
/// shares blocks where the filesystem can and copies otherwise). Works anywhere, costs a copy.
/// </summary>
internal sealed class NaiveDriver : VolumeDriver
{
    public const string Kind = "naive";

    public override string Name => Kind;

    public override bool CopyOnWrite => false;

    public override Task<MadeVolume> CreateEmptyAsync(string staging, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.Combine(staging, DataDirectory));
        return Task.FromResult(new MadeVolume(Kind));
    }

    public override async Task<MadeVolume> CreateChildAsync(string staging, string parentDirectory, VolumeMetadata parent, CancellationToken cancellationToken)
    {
        await CopyAsync(Path.Combine(parentDirectory, DataDirectory), Path.Combine(staging, DataDirectory), cancellationToken);
        return new MadeVolume(Kind);
    }

    /// <summary>Copies a tree, preserving everything (<c>cp -a</c>), in a process that dies with the agent.</summary>
    internal static async Task CopyAsync(string source, string destination, CancellationToken cancellationToken)
    {
        var (code, error) = await ChildProcesses.Shared.RunAsync("cp", ["--reflink=auto", "-a", "--", source, destination], cancellationToken);
        if (code != 0)
        {
            throw new IOException($"copying the parent volume failed: {error}");
        }
    }
}
