using System.Diagnostics;

namespace Atc.Gc.UnitTests;

/// <summary>The systemd units in docs/deploy: valid for systemd, and hardened.</summary>
public sealed class DeploymentUnitTests
{
    /// <summary>Where the units expect the tool; replaced by a stand-in for verification, which checks that the command exists.</summary>
    private const string InstalledBinary = "/usr/local/bin/atc-gc";

    public static TheoryData<string> Units => ["atc-gc-orchestrator.service", "atc-gc-worker.service"];

    [SystemdAnalyzeFact]
    public async Task Systemd_analyze_verify_finds_nothing_to_say_about_the_units()
    {
        var directory = Directory.CreateTempSubdirectory("atc-gc-units-");
        try
        {
            var standIn = Path.Combine(directory.FullName, "atc-gc");
            await File.WriteAllTextAsync(standIn, "#!/bin/sh\nexit 0\n");
            File.SetUnixFileMode(standIn, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            var copies = new List<string>();
            foreach (var unit in Units)
            {
                var copy = Path.Combine(directory.FullName, unit);
                await File.WriteAllTextAsync(copy, (await File.ReadAllTextAsync(Unit(unit))).Replace(InstalledBinary, standIn, StringComparison.Ordinal));
                copies.Add(copy);
            }

            var (code, output) = await RunAsync(SystemdAnalyzeFactAttribute.Program!, ["verify", "--man=no", .. copies]);

            Assert.True(code == 0 && output.Length == 0, $"systemd-analyze verify exited {code}:\n{output}");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(Units))]
    public void Each_unit_runs_unprivileged_in_a_read_only_system_with_its_own_state_and_secrets_from_a_file(string unit)
    {
        var settings = File.ReadAllLines(Unit(unit)).Where(l => l.Contains('=', StringComparison.Ordinal) && !l.StartsWith('#')).ToList();

        Assert.Contains("NoNewPrivileges=yes", settings);
        Assert.Contains("ProtectSystem=strict", settings);
        Assert.Contains(settings, s => s == "DynamicUser=yes" || (s.StartsWith("User=", StringComparison.Ordinal) && s != "User=root"));
        Assert.Contains(settings, s => s.StartsWith("StateDirectory=", StringComparison.Ordinal));
        Assert.Contains(settings, s => s.StartsWith("EnvironmentFile=/etc/atc-gc/", StringComparison.Ordinal));
        Assert.Contains(settings, s => s.StartsWith($"ExecStart={InstalledBinary} ", StringComparison.Ordinal));
    }

    [Fact]
    public void The_worker_unit_reads_its_token_from_a_file_never_from_the_command_line()
    {
        var execStart = File.ReadAllLines(Unit("atc-gc-worker.service")).Single(l => l.StartsWith("ExecStart=", StringComparison.Ordinal));

        Assert.Contains("--token-file ", execStart, StringComparison.Ordinal);
        Assert.DoesNotContain("--token ", execStart, StringComparison.Ordinal);
    }

    private static string Unit(string name) => DocumentationTests.RepositoryFile("docs", "deploy", name);

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, ((await stdout) + (await stderr)).Trim());
    }
}
