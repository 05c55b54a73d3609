using System.Net;
using Atc.Gc.Workers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Atc.Gc.UnitTests;

public sealed class WorkerNetworkPolicyTests
{
    [Theory]
    [InlineData("http://10.1.2.3:7788")]
    [InlineData("http://10.1.2.3:7788/")]
    [InlineData("https://worker-1.ci.example:7788/")]
    [InlineData("http://[fd00::1]:7788/")]
    public void A_scheme_host_and_port_is_a_base_url(string text)
    {
        var (url, refusal) = WorkerBaseUrl.Parse(text);

        Assert.Null(refusal);
        Assert.Equal("/", url!.AbsolutePath);
    }

    [Theory]
    [InlineData("http://10.1.2.3:7788/admin")]
    [InlineData("http://10.1.2.3:7788/?")]
    [InlineData("http://10.1.2.3:7788/#")]
    [InlineData("http://@10.1.2.3:7788/")]
    [InlineData("http://u:p@10.1.2.3:7788/")]
    [InlineData("http://10.1.2.3:7788/%2e%2e/")]
    [InlineData("file:///etc/passwd")]
    [InlineData("gopher://10.1.2.3:70/")]
    [InlineData("10.1.2.3:7788")]
    public void Anything_more_than_a_scheme_host_and_port_is_refused(string text) =>
        Assert.NotNull(WorkerBaseUrl.Parse(text).Refusal);

    [Theory]
    [InlineData("169.254.169.254", 80)]
    [InlineData("fe80::1", 7788)]
    [InlineData("::ffff:169.254.169.254", 80)]
    [InlineData("0.0.0.0", 7788)]
    [InlineData("224.0.0.1", 7788)]
    public async Task Link_local_unspecified_and_multicast_addresses_are_refused_whatever_is_allowed(string address, int port)
    {
        var options = new WorkerClientOptions();
        options.AllowedNetworks.Add("0.0.0.0/0");
        options.AllowedNetworks.Add("::/0");

        Assert.NotNull(await new WorkerNetworkPolicy(options).RefusalAsync(IPAddress.Parse(address), port, CancellationToken.None));
    }

    [Fact]
    public async Task The_databases_host_and_port_is_denied_to_workers()
    {
        await using var provider = new ServiceCollection()
            .AddSingleton(NpgsqlDataSource.Create("Host=127.0.0.1;Port=5999;Database=x;Username=u"))
            .AddAtcGcWorkerClient(new ConfigurationBuilder().Build())
            .BuildServiceProvider();
        var policy = provider.GetRequiredService<WorkerNetworkPolicy>();

        Assert.NotNull(await policy.RefusalAsync(IPAddress.Loopback, 5999, CancellationToken.None));
        Assert.NotNull(await policy.RefusalAsync(IPAddress.Parse("127.0.0.5"), 5999, CancellationToken.None));
        Assert.Null(await policy.RefusalAsync(IPAddress.Loopback, 7788, CancellationToken.None));
    }

    [Fact]
    public async Task A_denied_endpoint_on_any_address_denies_its_port_on_loopback_only_at_that_port()
    {
        var options = new WorkerClientOptions();
        options.DeniedEndpoints.Add("0.0.0.0:9000");
        options.DeniedEndpoints.Add("10.9.9.9:80");
        var policy = new WorkerNetworkPolicy(options);

        Assert.NotNull(await policy.RefusalAsync(IPAddress.Loopback, 9000, CancellationToken.None));
        Assert.NotNull(await policy.RefusalAsync(IPAddress.Parse("10.9.9.9"), 80, CancellationToken.None));
        Assert.Null(await policy.RefusalAsync(IPAddress.Parse("10.9.9.8"), 80, CancellationToken.None));
        Assert.Null(await policy.RefusalAsync(IPAddress.Loopback, 9001, CancellationToken.None));
    }
}
