using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Workers;

namespace Atc.Gc.IntegrationTests.Cli;

/// <summary>
/// No command starts the embedded cluster unless asked (<c>--embedded</c>, or the demo): with no database
/// configured a command that needs one says so in one line and exits 3, and nothing is created.
/// </summary>
public sealed class DatabaseChoiceTests : IDisposable
{
    private const string NotConfigured =
        "atc-gc: no database is configured: pass --database, set ATC_GC_DATABASE or ConnectionStrings:AtcGc, or use --embedded for the local embedded cluster";

    private readonly string root = Directory.CreateTempSubdirectory("atc-gc-choice-").FullName;

    public DatabaseChoiceTests() =>
        // As root the server runs as 'postgres', which must pass through this directory to the cluster.
        File.SetUnixFileMode(root, File.GetUnixFileMode(root) | UnixFileMode.OtherExecute);

    private string EmbeddedDirectory => Path.Combine(root, "embedded");

    private string Home => Path.Combine(root, "home");

    [Theory]
    [InlineData("serve", "--listen", "http://127.0.0.1:0")]
    [InlineData("volumes")]
    [InlineData("workers")]
    [InlineData("caches")]
    [InlineData("explain", "vol-1")]
    [InlineData("collect", "--once")]
    [InlineData("collect")]
    [InlineData("migrate")]
    [InlineData("land-worker", "w1")]
    [InlineData("worker-token", "w1")]
    public async Task With_no_database_configured_a_command_exits_3_with_one_line_and_starts_nothing(params string[] arguments)
    {
        var (code, stdout, stderr) = await AtcGcProcess.RunAsync(arguments, Environment(), TimeSpan.FromSeconds(60));

        Assert.Equal(3, code);
        Assert.Equal(string.Empty, stdout);
        Assert.Equal(NotConfigured, Assert.Single(stderr.Trim().Split('\n')));
        Assert.False(Directory.Exists(EmbeddedDirectory), "the embedded directory was created");
        Assert.False(Directory.Exists(Home), "something was created in the home directory");
    }

    [Theory]
    [InlineData("volumes", "--embedded", "--database", "Host=127.0.0.1;Port=1")]
    [InlineData("serve", "--database", "Host=127.0.0.1;Port=1", "--embedded")]
    [InlineData("worker-token", "w1", "--embedded", "--database", "Host=127.0.0.1;Port=1")]
    [InlineData("demo", "--quick", "--embedded", "--database", "Host=127.0.0.1;Port=1")]
    public async Task Embedded_together_with_a_connection_string_is_bad_input(params string[] arguments)
    {
        var (code, stdout, stderr) = await AtcGcProcess.RunAsync(arguments, Environment(), TimeSpan.FromSeconds(60));

        Assert.Equal(2, code);
        Assert.Equal(string.Empty, stdout);
        Assert.Contains("--embedded cannot be combined with", Assert.Single(stderr.Trim().Split('\n')), StringComparison.Ordinal);
        Assert.False(Directory.Exists(EmbeddedDirectory));
    }

    [Fact]
    public async Task Embedded_together_with_a_connection_string_from_the_environment_is_bad_input()
    {
        var environment = Environment();
        environment["ATC_GC_DATABASE"] = "Host=127.0.0.1;Port=1";

        var (code, _, stderr) = await AtcGcProcess.RunAsync(["migrate", "--embedded"], environment, TimeSpan.FromSeconds(60));

        Assert.Equal(2, code);
        Assert.Contains("--embedded cannot be combined with", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(EmbeddedDirectory));
    }

    [Fact]
    public async Task With_embedded_migrate_starts_the_cluster_a_listing_only_joins_it_running_and_worker_tokens_derive_from_its_secret()
    {
        var migrate = await AtcGcProcess.RunAsync(["migrate", "--embedded"], Environment(), TimeSpan.FromMinutes(2));
        var stopped = await AtcGcProcess.RunAsync(["workers", "--embedded"], Environment(), TimeSpan.FromMinutes(2));
        await using var serve = AtcGcProcess.Start(["serve", "--embedded", "--listen", "http://127.0.0.1:0"], Environment());
        await Eventually.TrueAsync(() => serve.HasExited || serve.Output.Contains("listening on", StringComparison.Ordinal), "serve listens", TimeSpan.FromMinutes(1));
        var first = await AtcGcProcess.RunAsync(["worker-token", "w1", "--embedded"], Environment());
        var second = await AtcGcProcess.RunAsync(["worker-token", "w1", "--embedded"], Environment());
        var workers = await AtcGcProcess.RunAsync(["workers", "--embedded", "--json"], Environment(), TimeSpan.FromMinutes(2));
        var running = !serve.HasExited;
        using (var stop = System.Diagnostics.Process.Start("kill", ["-TERM", serve.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            // Stopped, not killed: serve stops the cluster it started.
            await stop.WaitForExitAsync();
        }

        await Eventually.TrueAsync(() => serve.HasExited, "serve stops", TimeSpan.FromMinutes(1));

        Assert.True(migrate.ExitCode == 0, migrate.StandardError);
        Assert.Contains($"(embedded, socket in {EmbeddedDirectory}/run, data in {EmbeddedDirectory}/data)", migrate.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(3, stopped.ExitCode);
        Assert.Contains("is not running, and this command does not start it", Assert.Single(stopped.StandardError.Trim().Split('\n')), StringComparison.Ordinal);
        Assert.True(running, serve.Output);
        Assert.True(first.ExitCode == 0, first.StandardError);
        var secret = (await File.ReadAllTextAsync(Path.Combine(EmbeddedDirectory, "worker-token-secret"))).Trim();
        Assert.Equal(WorkerTokens.Derive(secret, "w1", 0), first.StandardOutput.Trim());
        Assert.Equal(first.StandardOutput, second.StandardOutput);
        Assert.True(workers.ExitCode == 0, workers.StandardError);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(EmbeddedDirectory, "worker-token-secret")));
        Assert.Equal((UnixFileMode)0, File.GetUnixFileMode(EmbeddedDirectory) & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite));
    }

    [Fact]
    public async Task With_a_configured_database_the_worker_secret_must_be_configured_and_no_secret_file_is_made()
    {
        var (code, _, stderr) = await AtcGcProcess.RunAsync(["worker-token", "w1", "--database", "Host=127.0.0.1;Port=1"], Environment());

        Assert.Equal(2, code);
        Assert.Contains(WorkerClientOptions.MissingSecret, stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(EmbeddedDirectory));
    }

    public void Dispose()
    {
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Nothing configured: no connection string or secret from the test's own environment, the embedded directory and home inside this test's directory.</summary>
    private Dictionary<string, string?> Environment() => new()
    {
        ["ATC_GC_DATABASE"] = null,
        ["ConnectionStrings__AtcGc"] = null,
        ["ATC_GC_WORKER_SECRET"] = null,
        ["Workers__TokenSecret"] = null,
        ["XDG_STATE_HOME"] = null,
        ["ATC_GC_EMBEDDED_DIR"] = EmbeddedDirectory,
        ["HOME"] = Home,
    };
}
