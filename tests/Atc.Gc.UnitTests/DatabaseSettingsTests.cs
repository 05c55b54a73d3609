using Atc.Gc.Database;
using Microsoft.Extensions.Configuration;

namespace Atc.Gc.UnitTests;

/// <summary>Connection string precedence. These tests change a process-wide variable, so they run as one collection.</summary>
[Collection(nameof(DatabaseSettingsTests))]
public sealed class DatabaseSettingsTests : IDisposable
{
    private readonly string? saved = Environment.GetEnvironmentVariable(DatabaseSettings.EnvironmentVariable);

    private static IConfiguration Configured(string? value) => new ConfigurationBuilder()
        .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:AtcGc"] = value })
        .Build();

    [Fact]
    public void The_command_line_wins_over_environment_and_configuration()
    {
        Environment.SetEnvironmentVariable(DatabaseSettings.EnvironmentVariable, "Host=from-env");

        Assert.Equal("Host=from-cli", DatabaseSettings.Resolve("Host=from-cli", Configured("Host=from-config")));
    }

    [Fact]
    public void The_environment_wins_over_configuration()
    {
        Environment.SetEnvironmentVariable(DatabaseSettings.EnvironmentVariable, "Host=from-env");

        Assert.Equal("Host=from-env", DatabaseSettings.Resolve(null, Configured("Host=from-config")));
    }

    [Fact]
    public void Configuration_is_used_when_nothing_else_is_set()
    {
        Environment.SetEnvironmentVariable(DatabaseSettings.EnvironmentVariable, null);

        Assert.Equal("Host=from-config", DatabaseSettings.Resolve(" ", Configured("Host=from-config")));
    }

    [Fact]
    public void Nothing_configured_resolves_to_none_and_never_to_the_embedded_cluster()
    {
        Environment.SetEnvironmentVariable(DatabaseSettings.EnvironmentVariable, null);

        Assert.Null(DatabaseSettings.Resolve(null, Configured(null)));
    }

    public void Dispose() => Environment.SetEnvironmentVariable(DatabaseSettings.EnvironmentVariable, saved);
}
