namespace Atc.Gc.IntegrationTests.Infrastructure;

/// <summary>A test that acts as another local user (<c>runuser -u nobody</c>, <c>chown</c>): it needs root and is skipped, saying so, without it.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Skip = "needs root: it plays another local user ('nobody', through runuser) against the embedded cluster";
        }
    }
}
