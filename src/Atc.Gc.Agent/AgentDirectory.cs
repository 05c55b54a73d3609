using Atc.Gc.Agent.Storage;

namespace Atc.Gc.Agent;

/// <summary>For tools and tests that throw a worker's directory away: every mount under it is detached first, so nothing is removed through a mount.</summary>
public static class AgentDirectory
{
    /// <summary>Removes <paramref name="path"/> (an agent's root, or a directory holding several) and everything under it.</summary>
    public static void Remove(string path) => Tree.Remove(Path.GetFullPath(path));
}
