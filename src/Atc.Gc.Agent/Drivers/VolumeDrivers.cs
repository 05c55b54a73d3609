using Microsoft.Extensions.Logging;

namespace Atc.Gc.Agent.Drivers;

/// <summary>
/// The drivers of one root: the one chosen for new volumes (<c>Agent:Driver</c>: <c>detect</c>,
/// <c>overlay</c>, <c>naive</c> or <c>btrfs</c>), and every driver by name, for volumes an earlier
/// run made with another.
/// </summary>
internal sealed class VolumeDrivers
{
    public const string Detect = "detect";

    public static IReadOnlyList<string> Choices { get; } = [Detect, OverlayDriver.Kind, NaiveDriver.Kind, BtrfsDriver.Kind];

    private readonly Dictionary<string, VolumeDriver> byName;

    private VolumeDrivers(string root, VolumeDriver chosen)
    {
        byName = new Dictionary<string, VolumeDriver>(StringComparer.Ordinal)
        {
            [NaiveDriver.Kind] = new NaiveDriver(),
            [OverlayDriver.Kind] = new OverlayDriver(root),
            [BtrfsDriver.Kind] = new BtrfsDriver(),
        };
        byName[chosen.Name] = chosen;
        Chosen = chosen;
    }

    /// <summary>The drivers of <paramref name="root"/> with <paramref name="chosen"/> for new volumes (tests wrap a driver this way).</summary>
    internal static VolumeDrivers With(string root, VolumeDriver chosen) => new(root, chosen);

    /// <summary>The driver new volumes are made with.</summary>
    public VolumeDriver Chosen { get; }

    /// <summary>The driver that made a volume (an unknown name is treated as a plain directory).</summary>
    public VolumeDriver For(string name) => byName.TryGetValue(name, out var driver) ? driver : byName[NaiveDriver.Kind];

    /// <summary>
    /// Chooses the driver for <paramref name="root"/>. <c>detect</c> takes btrfs when the root is on btrfs
    /// and btrfs-progs is installed, overlay when an overlay mount really works there (kernel, privileges,
    /// filesystem), and naive otherwise. A driver asked for by name that cannot work here stops the agent.
    /// </summary>
    public static VolumeDrivers Choose(string root, string choice, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        switch (choice)
        {
            case NaiveDriver.Kind:
                return new VolumeDrivers(root, new NaiveDriver());
            case OverlayDriver.Kind:
                return OverlayDriver.Probe(root) is { } overlayProblem
                    ? throw new InvalidOperationException($"Agent:Driver overlay cannot be used in {root}: {overlayProblem}")
                    : new VolumeDrivers(root, new OverlayDriver(root));
            case BtrfsDriver.Kind:
                return BtrfsDriver.Unavailable(root) is { } btrfsProblem
                    ? throw new InvalidOperationException($"Agent:Driver btrfs cannot be used in {root}: {btrfsProblem}")
                    : new VolumeDrivers(root, new BtrfsDriver());
            case Detect:
                if (BtrfsDriver.Unavailable(root) is null)
                {
                    return new VolumeDrivers(root, new BtrfsDriver());
                }

                if (OverlayDriver.Probe(root) is { } problem)
                {
                    logger.LogInformation("Overlay mounts do not work in {Root} ({Problem}): volumes are made with the naive driver (children are copies)", root, problem);
                    return new VolumeDrivers(root, new NaiveDriver());
                }

                return new VolumeDrivers(root, new OverlayDriver(root));
            default:
                throw new InvalidOperationException($"Agent:Driver '{choice}' is not one of {string.Join(", ", Choices)}");
        }
    }
}
