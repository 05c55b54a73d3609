using Atc.Gc.Embedded;

namespace Atc.Gc.UnitTests;

/// <summary>Where the embedded cluster and its worker token secret live, and that they stay private.</summary>
public sealed class EmbeddedDirectoryTests : IDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private readonly string root = Directory.CreateTempSubdirectory("atc-gc-private-").FullName;

    [Theory]
    [InlineData("/srv/gc", true, "/state", "/home/ci", "/srv/gc")]
    [InlineData(null, true, "/state", "/root", "/var/lib/atc-gc")]
    [InlineData(null, false, "/state", "/home/ci", "/state/atc-gc")]
    [InlineData(null, false, "relative", "/home/ci", "/home/ci/.local/state/atc-gc")]
    [InlineData(" ", false, null, "/home/ci", "/home/ci/.local/state/atc-gc")]
    public void The_default_directory_is_private_to_the_user(string? configured, bool isRoot, string? stateHome, string home, string expected) =>
        Assert.Equal(expected, EmbeddedPostgresOptions.DefaultDirectoryFor(configured, isRoot, stateHome, home));

    [Fact]
    public void Without_a_home_directory_the_default_asks_for_the_variable()
    {
        var ex = Assert.Throws<EmbeddedPostgresException>(() => EmbeddedPostgresOptions.DefaultDirectoryFor(null, false, null, string.Empty));

        Assert.Contains(EmbeddedPostgresOptions.DirectoryVariable, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_secret_is_made_once_private_and_read_back_the_same()
    {
        var directory = Path.Combine(root, "new", "embedded");

        var first = EmbeddedWorkerSecret.ReadOrCreate(directory);
        var second = EmbeddedWorkerSecret.ReadOrCreate(directory);

        Assert.Equal(first, second);
        Assert.True(first.Length >= 16);
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(directory));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(directory, EmbeddedWorkerSecret.FileName)));
        Assert.Equal([EmbeddedWorkerSecret.FileName], Directory.GetFileSystemEntries(directory).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData(UnixFileMode.GroupWrite, "is writable by group or others (mode 0770)")]
    [InlineData(UnixFileMode.OtherWrite, "is writable by group or others (mode 0752)")]
    public void A_directory_others_may_write_to_is_refused_before_anything_is_written(UnixFileMode extra, string problem)
    {
        var directory = Path.Combine(root, "shared");
        Directory.CreateDirectory(directory);
        File.SetUnixFileMode(directory, OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | extra);

        var ex = Assert.Throws<EmbeddedPostgresException>(() => EmbeddedWorkerSecret.ReadOrCreate(directory));

        Assert.StartsWith($"refusing {directory}: it {problem}", ex.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(directory));
    }

    [Fact]
    public void A_secret_others_may_read_is_refused()
    {
        var directory = Path.Combine(root, "leaky");
        Directory.CreateDirectory(directory, OwnerOnly);
        var file = Path.Combine(directory, EmbeddedWorkerSecret.FileName);
        File.WriteAllText(file, "secret-0123456789abcdef");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        var ex = Assert.Throws<EmbeddedPostgresException>(() => EmbeddedWorkerSecret.ReadOrCreate(directory));

        Assert.Equal(
            $"refusing {file}: it is open to group or others (mode 0604; it must be 0600); the embedded cluster's directory and worker token secret must be private to the user running atc-gc",
            ex.Message);
    }

    public void Dispose() => Directory.Delete(root, recursive: true);
}
