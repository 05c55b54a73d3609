using Atc.Gc.Embedded;

namespace Atc.Gc.UnitTests;

/// <summary>The owner, kind and permission bits read through statx(2), against what .NET itself reports.</summary>
public sealed class UnixFileStatusTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("atc-gc-stat-").FullName;

    [Fact]
    public void A_file_this_process_made_is_owned_by_its_effective_user_with_the_mode_it_was_given()
    {
        var file = Path.Combine(directory, "file");
        File.WriteAllText(file, "x");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.SetGroup);

        var status = UnixFileStatus.Of(file);

        Assert.NotNull(status);
        Assert.Equal(UnixFileStatus.EffectiveUser, status.Value.Owner);
        Assert.Equal(File.GetUnixFileMode(file), status.Value.Permissions);
        Assert.Equal("02640", status.Value.Octal);
        Assert.True(status.Value.IsRegularFile);
        Assert.False(status.Value.IsDirectory);
    }

    [Fact]
    public void The_effective_user_is_root_exactly_when_the_process_is_privileged() =>
        Assert.Equal(Environment.IsPrivilegedProcess, UnixFileStatus.EffectiveUser == 0);

    [Fact]
    public void The_root_directory_is_a_directory_owned_by_root()
    {
        var status = UnixFileStatus.Of("/");

        Assert.NotNull(status);
        Assert.Equal(0u, status.Value.Owner);
        Assert.True(status.Value.IsDirectory);
    }

    [Fact]
    public void A_symbolic_link_is_described_itself_unless_followed()
    {
        var link = Path.Combine(directory, "link");
        File.CreateSymbolicLink(link, directory);

        Assert.True(UnixFileStatus.Of(link)?.IsSymbolicLink);
        Assert.True(UnixFileStatus.Of(link, followLinks: true)?.IsDirectory);
    }

    [Fact]
    public void Nothing_there_is_null()
    {
        Assert.Null(UnixFileStatus.Of(Path.Combine(directory, "missing")));
        Assert.Null(UnixFileStatus.Of(Path.Combine(directory, "missing", "below")));
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);
}
