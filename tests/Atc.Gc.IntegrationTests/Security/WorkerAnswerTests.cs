using System.Text;
using Atc.Gc.Collection;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Lifecycle;
using Atc.Gc.Scheduling;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Atc.Gc.IntegrationTests.Security;

/// <summary>
/// What a hostile or broken worker can make the collector do with its answers, over real HTTP: a
/// redirect is not followed (the token does not go elsewhere), and what it says is stored as a short
/// single line whatever it sent — and the same holds for what an orchestrator answers an agent.
/// </summary>
public sealed class WorkerAnswerTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task A_worker_that_redirects_a_delete_does_not_send_the_collector_elsewhere()
    {
        string? forwardedAuthorization = null;
        await using var elsewhere = await AnsweringServer.StartAsync(context =>
        {
            forwardedAuthorization = context.Request.Headers.Authorization.ToString();
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        });
        await using var redirecting = await AnsweringServer.StartAsync(context =>
        {
            context.Response.StatusCode = StatusCodes.Status307TemporaryRedirect;
            context.Response.Headers.Location = new Uri(elsewhere.BaseUrl, context.Request.Path.Value!.TrimStart('/')).ToString();
            return Task.CompletedTask;
        });
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource);
        await Store.Workers.RegisterAsync(new WorkerRegistration("w1", redirecting.BaseUrl, []));
        var volume = await Given.DestroyingAsync("w1");

        await orchestrator.Services.GetRequiredService<GarbageCollector>().RunPassAsync(PassRequest.Complete);

        Assert.True(redirecting.Requests > 0);
        Assert.Equal(0, elsewhere.Requests);
        Assert.Null(forwardedAuthorization);
        Assert.Equal(VolumeState.Destroying, (await Store.Volumes.FindAsync(volume.Id))!.State);
        var error = await Given.ScalarAsync<string>("SELECT last_delete_error FROM volumes WHERE id = @id", new { id = volume.Id });
        Assert.StartsWith("HTTP 307", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_workers_long_answer_with_control_characters_is_stored_as_a_short_single_line()
    {
        var body = "disk\0on\nfire\r\n\u001b[31m\u202e" + new string('x', 200_000);
        await using var hostile = await AnsweringServer.StartAsync(async context =>
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(body));
        });
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource, new Dictionary<string, string?> { ["Workers:Retries"] = "0" });
        await Store.Workers.RegisterAsync(new WorkerRegistration("w1", hostile.BaseUrl, []));
        var volume = await Given.DestroyingAsync("w1");

        await orchestrator.Services.GetRequiredService<GarbageCollector>().RunPassAsync(PassRequest.Complete);

        var (attempts, error) = (await Given.QueryAsync<(int, string)>(
            "SELECT delete_attempts, last_delete_error FROM volumes WHERE id = @id", new { id = volume.Id })).Single();
        Assert.Equal(1, attempts);
        Assert.StartsWith("HTTP 500 Internal Server Error: disk on fire [31m", error, StringComparison.Ordinal);
        Assert.True(error.Length <= 300, $"{error.Length} characters stored");
        Assert.DoesNotContain(error, c => char.IsControl(c) || c == '\u202e');
    }

    [Fact]
    public async Task An_orchestrators_long_error_with_control_characters_shows_in_the_agents_health_as_a_short_single_line()
    {
        var body = "no\0such\nworker\u001b[2J\u202e" + new string('y', 200_000);
        await using var hostile = await AnsweringServer.StartAsync(async context =>
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(body));
        });
        await using var agent = await AgentInstance.StartAsync("w1", orchestrator: hostile.BaseUrl);

        string? error = null;
        await Eventually.TrueAsync(
            async () =>
            {
                using var health = System.Text.Json.JsonDocument.Parse(await Agent.UndeletableVolumeTests.HealthAsync(agent));
                error = health.RootElement.GetProperty("loops").GetProperty("heartbeat").GetProperty("lastError").GetString();
                return error is not null;
            },
            "the heartbeat loop recorded the orchestrator's error");

        Assert.Contains("HTTP 500", error, StringComparison.Ordinal);
        Assert.Contains("no such worker [2J", error, StringComparison.Ordinal);
        Assert.True(error!.Length <= 300, $"{error.Length} characters kept");
        Assert.DoesNotContain(error, c => char.IsControl(c) || c == '\u202e');
    }
}
