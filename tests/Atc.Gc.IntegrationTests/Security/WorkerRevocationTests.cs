using System.Net;
using System.Net.Http.Json;
using Atc.Gc.Collection;
using Atc.Gc.Hosting;
using Atc.Gc.IntegrationTests.Agent;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Lifecycle;
using Atc.Gc.Model;
using Atc.Gc.Scheduling;
using Atc.Gc.Workers;
using Microsoft.Extensions.DependencyInjection;

namespace Atc.Gc.IntegrationTests.Security;

/// <summary>
/// Revocable workers, over real HTTP, the real command line and a real agent process: a pruned worker
/// or one whose retirement completed cannot come back with its old token, <c>worker-token --rotate</c>
/// revokes a token by hand, a token passed in a private file never shows in the process list.
/// </summary>
public sealed class WorkerRevocationTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    private OrchestratorInstance orchestrator = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource);
    }

    public override async Task DisposeAsync() => await orchestrator.DisposeAsync();

    [Fact]
    public async Task A_pruned_workers_old_token_is_refused_and_registers_nothing_and_its_new_token_works()
    {
        var old = orchestrator.TokenOf("w1");
        await RegisterAsync("w1", old, HttpStatusCode.OK);

        var pruned = await AtcGcAsync("prune-worker", "w1", "--force", "--yes");
        Assert.True(pruned.ExitCode == 0, pruned.StandardError);

        var register = await RegisterAsync("w1", old, HttpStatusCode.Unauthorized);
        await AgentApiTests.AssertProblemAsync(register, HttpStatusCode.Unauthorized, "revoked");
        using (var client = orchestrator.ClientFor("w1", old))
        {
            var report = await client.PutAsJsonAsync(OrchestratorProtocol.ReportPath("w1"), new VolumeReportRequest([]), VolumeProtocol.Json);
            var retire = await client.PostAsync(OrchestratorProtocol.RetirePath("w1"), null);
            Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized), (report.StatusCode, retire.StatusCode));
        }

        Assert.Null(await Store.Workers.FindAsync("w1"));

        var printed = await AtcGcAsync("worker-token", "w1");
        var renewed = printed.StandardOutput.Trim();
        Assert.NotEqual(old, renewed);
        Assert.Equal(WorkerTokens.Derive(CollectorHarness.Secret, "w1", 1), renewed);
        await RegisterAsync("w1", renewed, HttpStatusCode.OK);
        Assert.Equal(WorkerState.Running, (await Store.Workers.FindAsync("w1"))!.State);
    }

    [Fact]
    public async Task A_retiring_worker_keeps_its_token_while_it_drains_and_loses_it_when_the_collector_deletes_it()
    {
        await using var fleet = new WorkerFleet(Store, Given);
        var worker = await fleet.AddAsync("w1");
        var old = orchestrator.TokenOf("w1");
        var build = await Given.BuildAsync();
        var container = await Given.ContainerAsync("w1", build);
        var orphans = await fleet.OrphansAsync(worker, 2);
        foreach (var orphan in orphans)
        {
            await Store.Volumes.DestroyAsync(orphan.Id);
        }

        await RetireAsync("w1", old);
        var collector = orchestrator.Services.GetRequiredService<GarbageCollector>();
        await collector.RunPassAsync(PassRequest.Complete);

        // Draining: still its worker, called with the token its agent has; the agent may still heartbeat.
        Assert.Equal(WorkerState.Retiring, (await Store.Workers.FindAsync("w1"))!.State);
        Assert.Empty(worker.Volumes);
        Assert.Equal(0, worker.UnauthorizedRequests);
        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM volumes"));
        await RegisterAsync("w1", old, HttpStatusCode.OK, heartbeat: true);

        await Store.Builds.FinishAsync(build, BuildStatus.Succeeded);
        await collector.RunPassAsync(PassRequest.Complete);

        Assert.Null(await Store.Workers.FindAsync("w1"));
        Assert.Equal(1, await Store.Credentials.GenerationAsync("w1"));
        await RegisterAsync("w1", old, HttpStatusCode.Unauthorized, heartbeat: true);
        Assert.Null(await Store.Workers.FindAsync("w1"));
        GC.KeepAlive(container);
    }

    [Fact]
    public async Task Worker_token_rotate_revokes_the_old_token_and_the_collector_calls_with_the_new_one()
    {
        await using var fleet = new WorkerFleet(Store, Given);
        var worker = await fleet.AddAsync("w1");
        var old = orchestrator.TokenOf("w1");
        var heartbeat = await Given.ScalarAsync<DateTime>("SELECT heartbeat_at FROM workers WHERE name = 'w1'");

        var rotated = await AtcGcAsync("worker-token", "w1", "--rotate");
        var printed = await AtcGcAsync("worker-token", "w1");

        Assert.True(rotated.ExitCode == 0, rotated.StandardError);
        var renewed = rotated.StandardOutput.Trim();
        Assert.Equal(WorkerTokens.Derive(CollectorHarness.Secret, "w1", 1), renewed);
        Assert.Equal(renewed, printed.StandardOutput.Trim());
        Assert.Contains("previous token is refused", rotated.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain(renewed, rotated.StandardError, StringComparison.Ordinal);

        await RegisterAsync("w1", old, HttpStatusCode.Unauthorized, heartbeat: true);
        Assert.Equal(heartbeat, await Given.ScalarAsync<DateTime>("SELECT heartbeat_at FROM workers WHERE name = 'w1'"));
        await RegisterAsync("w1", renewed, HttpStatusCode.OK, baseUrl: worker.BaseUrl, heartbeat: true);

        // The collector derives the new token: an agent still holding the old one refuses it, one given the new one deletes.
        var orphans = await fleet.OrphansAsync(worker, 1);
        await Store.Volumes.DestroyAsync(orphans[0].Id);
        var collector = orchestrator.Services.GetRequiredService<GarbageCollector>();
        await collector.RunPassAsync(PassRequest.Complete);
        Assert.Equal(1, worker.UnauthorizedRequests);
        Assert.Equal(1, await Given.ScalarAsync<int>("SELECT count(*) FROM volumes WHERE state = 'destroying'"));

        worker.Generation = 1;
        await Given.ExecuteAsync("UPDATE volumes SET claim_expires_at = NULL");
        await collector.RunPassAsync(PassRequest.Complete);
        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM volumes"));
    }

    [Fact]
    public async Task A_registration_whose_token_is_revoked_while_it_is_on_its_way_registers_nothing()
    {
        var old = orchestrator.TokenOf("w1");
        await RegisterAsync("w1", old, HttpStatusCode.OK);

        // Hold the registration after its token was checked and before it writes the worker, while a prune commits.
        await Given.ExecuteAsync(
            """
            CREATE FUNCTION test_slow_registration() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.5); RETURN NULL; END $$;
            CREATE TRIGGER test_slow_registration AFTER INSERT ON installation FOR EACH STATEMENT EXECUTE FUNCTION test_slow_registration();
            """);
        try
        {
            using var client = orchestrator.ClientFor("w1", old);
            var registering = client.PutAsJsonAsync(OrchestratorProtocol.WorkerPath("w1"), new RegisterWorkerRequest("http://127.0.0.1:7788/"), VolumeProtocol.Json);
            await Eventually.TrueAsync(
                async () => await Given.ScalarAsync<int>("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'") == 1,
                "the registration is inside its transaction");
            Assert.True((await Store.Workers.PruneAsync("w1", force: true)).Pruned);

            using var response = await registering;

            await AgentApiTests.AssertProblemAsync(response, HttpStatusCode.Unauthorized, "revoked");
            Assert.Null(await Store.Workers.FindAsync("w1"));
        }
        finally
        {
            await Given.ExecuteAsync("DROP TRIGGER test_slow_registration ON installation; DROP FUNCTION test_slow_registration()");
        }
    }

    [Fact]
    public async Task An_agent_given_its_token_in_a_private_file_registers_and_the_token_is_not_on_its_command_line()
    {
        var token = orchestrator.TokenOf("w1");
        var directory = Directory.CreateTempSubdirectory("atc-gc-token-file-").FullName;
        try
        {
            var tokenFile = Path.Combine(directory, "token");
            await File.WriteAllTextAsync(tokenFile, token + "\n");
            File.SetUnixFileMode(tokenFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            string[] arguments =
            [
                "worker", "--name", "w1", "--root", Path.Combine(directory, "root"), "--listen", $"http://127.0.0.1:{Loopback.FreePort()}",
                "--orchestrator", orchestrator.BaseUrl.ToString(), "--heartbeat-interval", "200ms", "--token-file", tokenFile,
            ];
            await using var agent = AtcGcProcess.Start(arguments, new Dictionary<string, string?> { ["ATC_GC_WORKER_TOKEN"] = null });

            await Eventually.TrueAsync(async () => await Store.Workers.FindAsync("w1") is not null, "the agent registered", TimeSpan.FromSeconds(30), () => agent.Output);
            var commandLine = await File.ReadAllTextAsync($"/proc/{agent.Id}/cmdline");
            Assert.Contains("--token-file", commandLine, StringComparison.Ordinal);
            Assert.DoesNotContain(token, commandLine, StringComparison.Ordinal);
            Assert.DoesNotContain(token, agent.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("warning", agent.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData(0b110_100_000, "is open to group or others (mode 0640")]
    [InlineData(0b110_000_100, "is open to group or others (mode 0604")]
    public async Task A_token_file_others_may_read_is_refused_with_one_line_and_nothing_starts(int mode, string problem)
    {
        var directory = Directory.CreateTempSubdirectory("atc-gc-token-file-").FullName;
        try
        {
            var tokenFile = Path.Combine(directory, "token");
            await File.WriteAllTextAsync(tokenFile, orchestrator.TokenOf("w1"));
            File.SetUnixFileMode(tokenFile, (UnixFileMode)mode);
            var port = Loopback.FreePort();

            var (code, stdout, stderr) = await AtcGcProcess.RunAsync(
                ["worker", "--name", "w1", "--root", Path.Combine(directory, "root"), "--listen", $"http://127.0.0.1:{port}", "--token-file", tokenFile]);

            Assert.Equal(2, code);
            Assert.Equal(string.Empty, stdout);
            Assert.Equal($"atc-gc: --token-file: refusing {tokenFile}: it {problem}; it must be 0600 or 0400)", Assert.Single(stderr.Trim().Split('\n')));
            Assert.False(Directory.Exists(Path.Combine(directory, "root")), "the agent started");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_token_on_the_command_line_works_with_a_one_line_warning_that_does_not_show_it()
    {
        var token = orchestrator.TokenOf("w1");
        var root = Directory.CreateTempSubdirectory("atc-gc-token-flag-").FullName;
        try
        {
            await using var agent = AtcGcProcess.Start(
            [
                "worker", "--name", "w1", "--root", root, "--listen", $"http://127.0.0.1:{Loopback.FreePort()}",
                "--orchestrator", orchestrator.BaseUrl.ToString(), "--heartbeat-interval", "200ms", "--token", token,
            ]);

            await Eventually.TrueAsync(async () => await Store.Workers.FindAsync("w1") is not null, "the agent registered", TimeSpan.FromSeconds(30), () => agent.Output);
            var warning = Assert.Single(agent.Output.Split('\n'), l => l.Contains("warning", StringComparison.Ordinal));
            Assert.Contains("--token-file", warning, StringComparison.Ordinal);
            Assert.DoesNotContain(token, agent.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private async Task<HttpResponseMessage> RegisterAsync(
        string worker, string token, HttpStatusCode expected, Uri? baseUrl = null, bool heartbeat = false)
    {
        using var client = orchestrator.ClientFor(worker, token);
        var response = await client.PutAsJsonAsync(
            OrchestratorProtocol.WorkerPath(worker), new RegisterWorkerRequest((baseUrl ?? new Uri("http://127.0.0.1:7788/")).ToString(), Heartbeat: heartbeat), VolumeProtocol.Json);
        Assert.True(response.StatusCode == expected, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return response;
    }

    private async Task RetireAsync(string worker, string token)
    {
        using var client = orchestrator.ClientFor(worker, token);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync(OrchestratorProtocol.RetirePath(worker), null)).StatusCode);
    }

    private Task<(int ExitCode, string StandardOutput, string StandardError)> AtcGcAsync(params string[] arguments) =>
        AtcGcProcess.RunAsync(
            [.. arguments, "--database", Fixture.ConnectionString],
            new Dictionary<string, string?> { ["ATC_GC_WORKER_SECRET"] = CollectorHarness.Secret });
}
