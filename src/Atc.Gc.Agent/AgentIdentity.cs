using System.Text.Json;

namespace Atc.Gc.Agent;

/// <summary>
/// The database identity (<c>installation.id</c>) this agent registered with, kept in
/// <c>&lt;root&gt;/identity.json</c> so it survives restarts. It is sent with every registration; an
/// orchestrator with another identity holds the worker, and the agent deletes nothing on its word,
/// until an operator adopts the worker and the orchestrator answers that the agent may take its identity.
/// </summary>
public sealed class AgentIdentity
{
    private readonly string file;
    private readonly Lock sync = new();
    private Guid? installation;

    public AgentIdentity(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        file = Path.Combine(Path.GetFullPath(root), "identity.json");
        installation = Read(file);
    }

    /// <summary>The identity recorded, or null before the first trusted registration.</summary>
    public Guid? Installation
    {
        get
        {
            lock (sync)
            {
                return installation;
            }
        }
    }

    /// <summary>True when <paramref name="orchestrator"/> is the identity recorded (or none is recorded yet).</summary>
    public bool Matches(Guid? orchestrator) => Installation is not { } known || known == orchestrator;

    /// <summary>Records <paramref name="value"/> (written to a temporary file and renamed into place).</summary>
    public void Record(Guid value)
    {
        lock (sync)
        {
            if (installation == value)
            {
                return;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            var staging = file + ".tmp";
            File.WriteAllText(staging, JsonSerializer.Serialize(new Stored(value)));
            File.Move(staging, file, overwrite: true);
            installation = value;
        }
    }

    private static Guid? Read(string file)
    {
        try
        {
            return File.Exists(file) ? JsonSerializer.Deserialize<Stored>(File.ReadAllText(file))?.InstallationId : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private sealed record Stored(Guid InstallationId);
}
