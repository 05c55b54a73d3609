namespace Atc.Gc.IntegrationTests.Agent;

/// <summary>A test that needs root for what it does to the disk (an immutable file, a mount): skipped, saying why, without it.</summary>
public sealed class AsRootFactAttribute : FactAttribute
{
    public AsRootFactAttribute(string why)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Skip = $"needs root: {why}";
        }
    }
}
