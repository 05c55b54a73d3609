using Atc.Gc.Embedded;

namespace Atc.Gc.UnitTests;

public sealed class PostgresBinariesTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("atc-gc-binaries-").FullName;

    [Fact]
    public void No_binaries_anywhere_gives_the_one_line_install_hint()
    {
        var ex = Assert.Throws<EmbeddedPostgresException>(() =>
            PostgresBinaries.Locate(path: Path.Combine(root, "empty"), packageRoot: Path.Combine(root, "no-such-root")));

        Assert.Equal(PostgresBinaries.InstallHint, ex.Message);
        Assert.Contains("apt-get install postgresql", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void A_path_directory_counts_only_when_it_holds_all_three_programs()
    {
        var partial = FakeBin("partial", "16.2", withPostgres: false);
        var packages = Path.Combine(root, "lib");
        FakeBin(Path.Combine("lib", "14", "bin"), "14.9");

        var found = PostgresBinaries.Locate(path: partial, packageRoot: packages);

        Assert.Equal(Path.Combine(packages, "14", "bin"), found.Directory);
        Assert.Equal(14, found.MajorVersion);
    }

    [Fact]
    public void Path_is_searched_before_the_package_layout_and_the_newest_package_wins_there()
    {
        var onPath = FakeBin("onpath", "17.1");
        FakeBin(Path.Combine("lib", "13", "bin"), "13.4");
        FakeBin(Path.Combine("lib", "15", "bin"), "15.18");

        Assert.Equal(onPath, PostgresBinaries.Locate(path: onPath, packageRoot: Path.Combine(root, "lib")).Directory);
        Assert.Equal(17, PostgresBinaries.Locate(path: onPath, packageRoot: Path.Combine(root, "lib")).MajorVersion);
        Assert.Equal(15, PostgresBinaries.Locate(path: Path.Combine(root, "none"), packageRoot: Path.Combine(root, "lib")).MajorVersion);
    }

    public void Dispose() => Directory.Delete(root, recursive: true);

    private string FakeBin(string relative, string version, bool withPostgres = true)
    {
        var dir = Path.Combine(root, relative);
        Directory.CreateDirectory(dir);
        foreach (var program in withPostgres ? new[] { "initdb", "pg_ctl", "postgres" } : ["initdb", "pg_ctl"])
        {
            var file = Path.Combine(dir, program);
            File.WriteAllText(file, $"#!/bin/sh\necho \"{program} (PostgreSQL) {version}\"\n");
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return dir;
    }
}
