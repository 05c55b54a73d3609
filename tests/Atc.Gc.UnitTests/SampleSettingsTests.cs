using System.Text.Json;
using Atc.Gc.Collection;
using Atc.Gc.Workers;

namespace Atc.Gc.UnitTests;

/// <summary>docs/deploy/appsettings.json names only settings that exist: a misspelt key there would be silently ignored.</summary>
public sealed class SampleSettingsTests
{
    [Theory]
    [InlineData("Collector", typeof(CollectorOptions))]
    [InlineData("Workers", typeof(WorkerClientOptions))]
    public void Every_key_of_a_section_is_a_setting_of_its_options(string section, Type options)
    {
        using var sample = JsonDocument.Parse(File.ReadAllText(DocumentationTests.RepositoryFile("docs", "deploy", "appsettings.json")));

        var keys = sample.RootElement.GetProperty(section).EnumerateObject().Select(p => p.Name).ToList();

        Assert.NotEmpty(keys);
        Assert.All(keys, key => Assert.NotNull(options.GetProperty(key)));
    }
}
