using Atc.Gc.IntegrationTests.Infrastructure;

namespace Atc.Gc.IntegrationTests.Agent;

/// <summary>Files no one can delete, not even root, until the flag is cleared (<c>chattr +i</c>): what an undeletable leftover looks like.</summary>
public static class Immutable
{
    /// <summary>Writes <paramref name="path"/> and makes it immutable.</summary>
    public static async Task CreateAsync(string path)
    {
        await File.WriteAllTextAsync(path, "pinned");
        await Command.RequireAsync("chattr", "+i", path);
    }

    /// <summary>Clears the flag of every file named <paramref name="name"/> under <paramref name="root"/>, wherever the agent moved it.</summary>
    public static async Task ReleaseAllAsync(string root, string name)
    {
        if (!Directory.Exists(root))
        {
            return;
        }

        foreach (var file in Directory.EnumerateFiles(root, name, new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint }))
        {
            await Command.RequireAsync("chattr", "-i", file);
        }
    }
}
