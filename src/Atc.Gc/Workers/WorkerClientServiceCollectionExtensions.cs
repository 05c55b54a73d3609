using Atc.Gc.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Atc.Gc.Workers;

public static class WorkerClientServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IWorkerVolumeClient"/> over HTTP: options from the <c>Workers</c> section
    /// (validated on start), and the standard resilience pipeline — attempt and total timeouts,
    /// retries with exponential backoff and jitter, a circuit breaker — one instance per worker.
    /// </summary>
    public static IServiceCollection AddAtcGcWorkerClient(this IServiceCollection services, IConfiguration configuration)
    {
        if (services.Any(d => d.ServiceType == typeof(IWorkerVolumeClient)))
        {
            return services; // once: a second resilience handler would wrap the first
        }

        services.AddOptions<WorkerClientOptions>()
            .Bind(configuration.GetSection(WorkerClientOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.AddSingleton(provider => CreatePolicy(provider));
        services.AddHttpClient(HttpWorkerVolumeClient.ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(provider => CreateHandler(provider))
            .AddStandardResilienceHandler()
            .Configure((resilience, provider) =>
            {
                var options = provider.GetRequiredService<IOptions<WorkerClientOptions>>().Value;
                resilience.AttemptTimeout.Timeout = options.AttemptTimeout;
                resilience.TotalRequestTimeout.Timeout = options.TotalTimeout;
                resilience.Retry.MaxRetryAttempts = Math.Max(1, options.Retries);
                resilience.Retry.ShouldHandle = options.Retries == 0
                    ? _ => ValueTask.FromResult(false)
                    : resilience.Retry.ShouldHandle;
                resilience.Retry.Delay = TimeSpan.FromMilliseconds(200);
                resilience.CircuitBreaker.SamplingDuration = options.AttemptTimeout * 2 > TimeSpan.FromSeconds(30)
                    ? options.AttemptTimeout * 2
                    : TimeSpan.FromSeconds(30);
                resilience.CircuitBreaker.MinimumThroughput = 4;
                resilience.CircuitBreaker.FailureRatio = 0.8;
                resilience.CircuitBreaker.BreakDuration = options.BreakDuration;
            })
            .SelectPipelineByAuthority();

        services.AddSingleton<IWorkerVolumeClient, HttpWorkerVolumeClient>();
        return services;
    }

    /// <summary>The network policy, with the database's endpoint denied when the services hold a data source that names one.</summary>
    private static WorkerNetworkPolicy CreatePolicy(IServiceProvider provider)
    {
        var policy = new WorkerNetworkPolicy(provider.GetRequiredService<IOptions<WorkerClientOptions>>().Value);
        if (provider.GetService<NpgsqlDataSource>() is { } dataSource)
        {
            var connection = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
            foreach (var host in (connection.Host ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!host.StartsWith('/') && !host.StartsWith('@'))
                {
                    var (name, port) = WorkerClientOptions.ParseEndpoint(host) ?? (host, connection.Port);
                    policy.Deny(name, port);
                }
            }
        }

        return policy;
    }

    /// <summary>
    /// The connection under every worker call: follows no redirect (a worker answers for itself, it
    /// does not send the collector's token elsewhere), connects only where <see cref="WorkerNetworkPolicy"/>
    /// allows, and trusts <see cref="WorkerClientOptions.CaFile"/> alone for HTTPS when it is set.
    /// </summary>
    private static SocketsHttpHandler CreateHandler(IServiceProvider provider)
    {
        var options = provider.GetRequiredService<IOptions<WorkerClientOptions>>().Value;
        var policy = provider.GetRequiredService<WorkerNetworkPolicy>();
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            ConnectCallback = policy.ConnectAsync,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        };
        if (options.CaFile is { } caFile)
        {
            handler.SslOptions = CaTrust.ClientOptions(CaTrust.Load(caFile));
        }

        return handler;
    }
}
