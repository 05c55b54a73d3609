using Atc.Gc.IntegrationTests.Infrastructure;

namespace Atc.Gc.IntegrationTests.Cli;

/// <summary>A listing draws a table at a terminal and prints plain columns, as it always has, to a pipe.</summary>
public sealed class TerminalOutputTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [TerminalTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Workers_is_a_drawn_table_at_a_terminal_and_plain_columns_otherwise(bool terminal)
    {
        await Given.WorkerAsync("w1");
        string[] arguments = ["workers", "--database", Fixture.ConnectionString];

        var output = terminal
            ? (await TerminalSession.RunAsync(arguments, string.Empty)).Screen
            : (await AtcGcProcess.RunAsync(arguments)).StandardOutput;

        var header = output.Split('\n').First(l => l.Contains("NAME", StringComparison.Ordinal));
        Assert.Equal(terminal, header.Contains('│', StringComparison.Ordinal));
        Assert.Equal(!terminal, System.Text.RegularExpressions.Regex.IsMatch(header, "^NAME +STATE +HEARTBEAT "));
        Assert.Contains("w1", output, StringComparison.Ordinal);
    }
}
