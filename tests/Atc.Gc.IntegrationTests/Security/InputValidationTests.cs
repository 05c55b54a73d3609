using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using Atc.Gc.IntegrationTests.Agent;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Workers;

namespace Atc.Gc.IntegrationTests.Security;

/// <summary>
/// Input both hosts used to let through to a 500, over real HTTP: a trailing newline in a name or a
/// handle, a null or U+0000 in a registration, a body sent too slowly; and the challenge every 401
/// carries.
/// </summary>
public sealed class InputValidationTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    [Fact]
    public async Task A_worker_name_with_U0000_is_refused_by_kestrel_with_a_400_and_registers_nothing()
    {
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource);
        using var client = orchestrator.ClientFor("w1\0", WorkerTokens.Derive(CollectorHarness.Secret, "w1\0", 0));

        using var response = await client.PutAsJsonAsync(OrchestratorProtocol.WorkerPath("w1\0"), new RegisterWorkerRequest("http://127.0.0.1:7788/"), VolumeProtocol.Json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM workers"));
    }

    [Theory]
    [InlineData("w1\n")]
    [InlineData("w1\r\n")]
    public async Task A_worker_name_with_a_trailing_newline_is_a_400_and_registers_nothing(string name)
    {
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource);
        using var client = orchestrator.ClientFor(name, WorkerTokens.Derive(CollectorHarness.Secret, name, 0));

        using var response = await client.PutAsJsonAsync(OrchestratorProtocol.WorkerPath(name), new RegisterWorkerRequest("http://127.0.0.1:7788/"), VolumeProtocol.Json);

        await AgentApiTests.AssertProblemAsync(response, HttpStatusCode.BadRequest, "is not a valid worker name");
        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM workers"));
    }

    [Fact]
    public async Task A_handle_with_a_trailing_newline_is_a_400_and_makes_no_directory()
    {
        await using var agent = await AgentInstance.StartAsync("w1");
        using var client = agent.Client();

        using var response = await client.PostAsJsonAsync("volumes", new CreateVolumeRequest("vol-a\n"));

        await AgentApiTests.AssertProblemAsync(response, HttpStatusCode.BadRequest, "is not a valid handle");
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(agent.Root, "*", SearchOption.AllDirectories), e => e.Contains("vol-a", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{"baseUrl":"http://127.0.0.1:7788/","resourceTypes":[null]}""", "must not contain null")]
    [InlineData("""{"baseUrl":"http://127.0.0.1:7788/","resourceTypes":[{"name":"git\u0000","image":"i","version":"1"}]}""", "control characters")]
    [InlineData("""{"baseUrl":"http://127.0.0.1:7788/","resourceTypes":[{"name":"git","image":"i\u0000","version":"1"}]}""", "control characters")]
    [InlineData("""{"baseUrl":"http://127.0.0.1:7788/\u0000"}""", "'baseUrl' must be")]
    public async Task A_registration_with_a_null_type_or_U0000_is_a_400_in_one_line_and_registers_nothing(string body, string detail)
    {
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource);
        using var client = orchestrator.ClientFor("w1");

        using var response = await client.PutAsync(OrchestratorProtocol.WorkerPath("w1"), new StringContent(body, Encoding.UTF8, "application/json"));

        await AgentApiTests.AssertProblemAsync(response, HttpStatusCode.BadRequest, detail);
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain('\n', text);
        Assert.DoesNotContain("\\u0000", text, StringComparison.Ordinal);
        Assert.Equal(0, await Given.ScalarAsync<int>("SELECT count(*) FROM workers"));
    }

    [Fact]
    public async Task Every_401_of_both_hosts_carries_a_bearer_challenge()
    {
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource);
        await using var agent = await AgentInstance.StartAsync("w1");
        using var anonymous = new HttpClient();
        using var forged = new HttpClient();
        forged.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "forged");

        HttpResponseMessage[] answers =
        [
            await anonymous.PutAsJsonAsync(new Uri(orchestrator.BaseUrl, OrchestratorProtocol.WorkerPath("w1")), new RegisterWorkerRequest("http://127.0.0.1:7788/")),
            await forged.PutAsJsonAsync(new Uri(orchestrator.BaseUrl, OrchestratorProtocol.WorkerPath("w1")), new RegisterWorkerRequest("http://127.0.0.1:7788/")),
            await anonymous.GetAsync(new Uri(agent.BaseUrl, "volumes")),
            await forged.GetAsync(new Uri(agent.BaseUrl, "volumes")),
        ];

        Assert.All(answers, answer =>
        {
            Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
            Assert.Equal("Bearer", Assert.Single(answer.Headers.WwwAuthenticate).Scheme);
        });
    }

    [Theory]
    [InlineData("")]
    [InlineData("/volumes/report")]
    public async Task A_worker_request_body_sent_too_slowly_is_a_408_not_a_500(string route)
    {
        await using var orchestrator = await OrchestratorInstance.StartQuietAsync(DataSource);
        await Given.WorkerAsync("w1");

        var status = await SendSlowlyAsync(orchestrator.BaseUrl, $"PUT /{OrchestratorProtocol.WorkerPath("w1")}{route}", orchestrator.TokenOf("w1"));

        Assert.Equal(408, status);
    }

    [Fact]
    public async Task A_volume_request_body_sent_too_slowly_is_a_408_not_a_500()
    {
        await using var agent = await AgentInstance.StartAsync("w1");

        var status = await SendSlowlyAsync(agent.BaseUrl, "POST /volumes", agent.Token);

        Assert.Equal(408, status);
    }

    /// <summary>Promises a 4000-byte JSON body, sends one byte, and waits for the answer: Kestrel's minimum data rate (240 B/s after a 5 s grace) gives up on it.</summary>
    private static async Task<int> SendSlowlyAsync(Uri server, string requestLine, string token)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port);
        var stream = tcp.GetStream();
        var head = $"{requestLine} HTTP/1.1\r\nHost: {server.Authority}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n{{";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var statusLine = await reader.ReadLineAsync(timeout.Token);
        Assert.NotNull(statusLine);
        return int.Parse(statusLine.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
