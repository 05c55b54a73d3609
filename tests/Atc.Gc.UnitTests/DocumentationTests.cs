using Atc.Gc.Lifecycle;

namespace Atc.Gc.UnitTests;

/// <summary>The diagrams in docs/ are copies of what the lifecycle definition renders; they must not drift.</summary>
public sealed class DocumentationTests
{
    [Fact]
    public void The_dot_diagram_in_docs_is_what_the_definition_renders() =>
        Assert.Equal(Normalize(VolumeLifecycle.ToDot()), Normalize(File.ReadAllText(RepositoryFile("docs", "volume-lifecycle.dot"))));

    [Fact]
    public void The_mermaid_diagram_in_docs_is_what_the_definition_renders() =>
        Assert.Equal(Normalize(VolumeLifecycle.ToMermaid()), Normalize(File.ReadAllText(RepositoryFile("docs", "volume-lifecycle.mmd"))));

    /// <summary>Every region of the quick start sample marked for the README appears in README.md as it is in the program.</summary>
    [Fact]
    public void The_readme_shows_the_quick_start_sample_as_it_is()
    {
        var program = File.ReadAllText(RepositoryFile("samples", "Atc.Gc.Samples.QuickStart", "Program.cs")).ReplaceLineEndings("\n");
        var readme = File.ReadAllText(RepositoryFile("README.md")).ReplaceLineEndings("\n");
        var regions = System.Text.RegularExpressions.Regex.Matches(program, @"// README:begin \w+\n(.*?)// README:end", System.Text.RegularExpressions.RegexOptions.Singleline);

        Assert.NotEmpty(regions);
        Assert.All(regions, region => Assert.Contains(region.Groups[1].Value.TrimEnd(), readme, StringComparison.Ordinal));
    }

    private static string Normalize(string text) => text.ReplaceLineEndings("\n").Trim();

    internal static string RepositoryFile(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Atc.Gc.sln")))
            {
                return Path.Combine([dir.FullName, .. parts]);
            }
        }

        throw new InvalidOperationException("the repository root (Atc.Gc.sln) was not found above the test binaries");
    }
}
