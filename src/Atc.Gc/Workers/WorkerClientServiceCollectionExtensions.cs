using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;

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

        services.AddHttpClient(HttpWorkerVolumeClient.ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
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
}
