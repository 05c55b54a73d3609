using Atc.Gc.Scheduling;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Atc.Gc.Server;

/// <summary>
/// Degraded while a worker is held — its unknown volumes are kept, not destroyed, until an operator
/// runs <c>atc-gc adopt-worker</c> — with each held worker and why in the check's data.
/// </summary>
public sealed class HeldWorkersHealthCheck(WorkerRepository workers) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var held = (await workers.ListAsync(cancellationToken)).Where(w => w.Hold is not null).ToList();
            if (held.Count == 0)
            {
                return HealthCheckResult.Healthy("no worker is held");
            }

            var data = held.ToDictionary(w => w.Name, w => (object)$"{w.Hold!.Kind}: {w.Hold.Detail}; {w.Hold.UnknownVolumes} unknown volumes kept");
            return HealthCheckResult.Degraded(
                $"{held.Count} worker(s) held, their unknown volumes kept until 'atc-gc adopt-worker NAME': {string.Join(", ", held.Select(w => w.Name))}",
                data: data);
        }
        catch (NpgsqlException ex)
        {
            return HealthCheckResult.Unhealthy($"cannot read workers: {ex.Message}");
        }
    }
}
