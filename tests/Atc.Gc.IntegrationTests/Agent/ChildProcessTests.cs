using System.Net;
using System.Net.Http.Json;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Workers;

namespace Atc.Gc.IntegrationTests.Agent;

/// <summary>A copy the agent runs (naive driver) dies with the agent: nothing keeps writing into its directory after a crash.</summary>
public sealed class ChildProcessTests
{
    [Fact]
    public async Task A_copy_in_progress_dies_when_the_agent_is_killed_and_the_restarted_agent_cleans_up()
    {
        var root = Directory.CreateTempSubdirectory("atc-gc-agent-copy-").FullName;
        int? copy = null;
        try
        {
            int port;
            await using (var agent = await WorkerProcess.StartAsync(root, null, Naive))
            {
                port = agent.Port;
                using var client = agent.Client();
                Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("volumes", new CreateVolumeRequest("parent"))).StatusCode);
                await WriteLargeFileAsync(Path.Combine(root, "volumes", "parent", "data", "big.bin"), 512L * 1024 * 1024);

                var creating = client.PostAsJsonAsync("volumes", new CreateVolumeRequest("child", new VolumeStrategyDto("cow", "parent")));
                await Eventually.TrueAsync(() => (copy = Processes.ChildNamed(agent.Id, "cp")) is not null, "the agent runs cp", TimeSpan.FromSeconds(30));

                // Frozen, the copy can only end by a signal: if it is still there after its agent died, nothing killed it.
                Processes.Signal(copy!.Value, "STOP");
                await agent.KillAloneAsync();
                _ = creating.ContinueWith(_ => { }, TaskScheduler.Default);

                await Eventually.TrueAsync(() => !Processes.IsAlive(copy.Value), "the copy died with its agent", TimeSpan.FromSeconds(5));
            }

            await using var restarted = await WorkerProcess.StartAsync(root, port, Naive);
            using var after = restarted.Client();
            Assert.Equal(HttpStatusCode.NotFound, (await after.GetAsync("volumes/child")).StatusCode);
            await Eventually.TrueAsync(
                () => !Directory.EnumerateFileSystemEntries(Path.Combine(root, "creating")).Any() && !Directory.EnumerateFileSystemEntries(Path.Combine(root, "dead")).Any(),
                "the half-made child was removed");
        }
        finally
        {
            if (copy is { } pid && Processes.IsAlive(pid))
            {
                Processes.Signal(pid, "KILL");
            }

            Directory.Delete(root, recursive: true);
        }
    }

    private static readonly string[] Naive = ["--driver", "naive"];

    private static async Task WriteLargeFileAsync(string path, long bytes)
    {
        var block = new byte[4 * 1024 * 1024];
        new Random(1).NextBytes(block);
        await using var file = File.Create(path);
        for (long written = 0; written < bytes; written += block.Length)
        {
            await file.WriteAsync(block);
        }
    }
}

/// <summary>Processes seen through /proc.</summary>
public static class Processes
{
    /// <summary>A child of <paramref name="parent"/> whose command name is <paramref name="name"/>, or null.</summary>
    public static int? ChildNamed(int parent, string name)
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            var stat = Read(pid);
            if (stat is { } s && s.Name == name && s.Parent == parent)
            {
                return pid;
            }
        }

        return null;
    }

    /// <summary>True while the process exists and is not a zombie.</summary>
    public static bool IsAlive(int pid) => Read(pid) is { State: not 'Z' and not 'X' };

    public static void Signal(int pid, string signal)
    {
        using var kill = System.Diagnostics.Process.Start("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    private static (string Name, char State, int Parent)? Read(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            var open = text.IndexOf('(', StringComparison.Ordinal);
            var close = text.LastIndexOf(')');
            var rest = text[(close + 2)..].Split(' ');
            return (text[(open + 1)..close], rest[0][0], int.Parse(rest[1], System.Globalization.CultureInfo.InvariantCulture));
        }
        catch (IOException)
        {
            return null;
        }
    }
}
