using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Workers;

namespace Atc.Gc.IntegrationTests.Cli;

/// <summary>
/// The embedded directory and its worker token secret must be the invoking user's alone: one that another
/// user made (or may write to) would let that user choose the secret every worker token derives from. Such
/// a directory or secret is refused in one line with exit code 3; nothing is started or written, and the
/// planted secret is never used.
/// </summary>
public sealed class PlantedDirectoryTests : IDisposable
{
    private const string PlantedSecret = "planted-secret-0123456789abcdef";

    private readonly string directory = Path.Combine(Path.GetTempPath(), $"atc-gc-planted-{Guid.NewGuid():N}"[..30]);

    private string SecretFile => Path.Combine(directory, "worker-token-secret");

    [RootFact]
    public async Task A_directory_another_user_created_is_refused_and_its_secret_is_not_used()
    {
        await OtherUser.RequireAsync("mkdir", "-m", "0755", directory);
        await OtherUser.RequireAsync("sh", "-c", $"printf %s {PlantedSecret} > {SecretFile}");
        Assert.Equal(PlantedSecret, await File.ReadAllTextAsync(SecretFile));

        foreach (var command in ReadingTheSecret.Append(["migrate", "--embedded"]))
        {
            await AssertRefusedAsync(command, directory, "is owned by uid 65534, not by this user (uid 0)");
        }

        Assert.Equal(["worker-token-secret"], Directory.GetFileSystemEntries(directory).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_directory_writable_by_group_or_others_is_refused()
    {
        Directory.CreateDirectory(directory);
        File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute);

        foreach (var command in ReadingTheSecret.Append(["migrate", "--embedded"]))
        {
            await AssertRefusedAsync(command, directory, "is writable by group or others (mode 0770)");
        }

        Assert.Empty(Directory.GetFileSystemEntries(directory));
    }

    [RootFact]
    public async Task A_secret_file_another_user_owns_is_refused_and_not_used()
    {
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await File.WriteAllTextAsync(SecretFile, PlantedSecret);
        File.SetUnixFileMode(SecretFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await Command.RequireAsync("chown", OtherUser.Name, SecretFile);

        foreach (var command in ReadingTheSecret)
        {
            await AssertRefusedAsync(command, SecretFile, "is owned by uid 65534, not by this user (uid 0)");
        }

        Assert.Equal(["worker-token-secret"], Directory.GetFileSystemEntries(directory).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_secret_file_others_may_write_is_refused_and_not_used()
    {
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await File.WriteAllTextAsync(SecretFile, PlantedSecret);
        File.SetUnixFileMode(SecretFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite);

        await AssertRefusedAsync(["worker-token", "w1", "--embedded"], SecretFile, "is open to group or others (mode 0622; it must be 0600)");
    }

    [Fact]
    public async Task A_secret_file_that_is_a_symbolic_link_is_refused_and_not_used()
    {
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var elsewhere = Path.Combine(directory, "elsewhere");
        await File.WriteAllTextAsync(elsewhere, PlantedSecret);
        File.SetUnixFileMode(elsewhere, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.CreateSymbolicLink(SecretFile, elsewhere);

        await AssertRefusedAsync(["worker-token", "w1", "--embedded"], SecretFile, "is not a regular file");
    }

    public void Dispose()
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Commands that read (or make) the embedded worker token secret; serve does so before it starts the cluster.</summary>
    private static IEnumerable<string[]> ReadingTheSecret =>
    [
        ["worker-token", "w1", "--embedded"],
        ["serve", "--embedded", "--listen", "http://127.0.0.1:0"],
    ];

    private async Task AssertRefusedAsync(string[] command, string path, string problem)
    {
        var (code, stdout, stderr) = await AtcGcProcess.RunAsync(command, new Dictionary<string, string?>
        {
            ["ATC_GC_EMBEDDED_DIR"] = directory,
            ["ATC_GC_DATABASE"] = null,
            ["ConnectionStrings__AtcGc"] = null,
            ["ATC_GC_WORKER_SECRET"] = null,
            ["Workers__TokenSecret"] = null,
        }, TimeSpan.FromSeconds(60));

        var line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.True(code == 3, $"{string.Join(' ', command)}: exit {code}\n{stdout}\n{stderr}");
        Assert.StartsWith($"atc-gc: refusing {path}: it {problem}", line, StringComparison.Ordinal);
        Assert.Equal(string.Empty, stdout);
        Assert.DoesNotContain(WorkerTokens.Derive(PlantedSecret, "w1", 0), stdout + stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(directory, "data")), "a cluster was made in the refused directory");
    }
}
