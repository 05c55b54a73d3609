using Atc.Gc.Database;
using Npgsql;

namespace Atc.Gc.Scheduling;

/// <summary>Caches a task step keeps between builds of its job, one per (job, step, path).</summary>
public sealed class TaskCacheRepository(NpgsqlDataSource dataSource)
{
    /// <summary>The default time a task cache lives after its last use.</summary>
    public static readonly TimeSpan DefaultTimeToLive = TimeSpan.FromDays(7);

    /// <summary>
    /// Finds or creates the task cache and marks it used now; returns its id. It expires
    /// <paramref name="timeToLive"/> after its last use (default 7 days); a time to live of zero never expires.
    /// </summary>
    public Task<long> FindOrCreateAsync(long jobId, string stepName, string path, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(stepName);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var ttl = timeToLive ?? DefaultTimeToLive;
        if (ttl < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeToLive), "a task cache's time to live cannot be negative (zero: never expires)");
        }

        // Intervals travel as seconds: Dapper would send a TimeSpan as a time of day.
        return dataSource.ScalarAsync<long>(
            """
            INSERT INTO task_caches (job_id, step_name, path, ttl) VALUES (@jobId, @stepName, @path, @ttlSeconds * interval '1 second')
            ON CONFLICT (job_id, step_name, path) DO UPDATE SET last_used = now(), ttl = EXCLUDED.ttl
            RETURNING id
            """, new { jobId, stepName, path, ttlSeconds = ttl.TotalSeconds }, cancellationToken);
    }
}
