using Atc.Gc.Database;
using Atc.Gc.Model;
using Npgsql;

namespace Atc.Gc.Workers;

/// <summary>
/// Worker token generations (<c>worker_credentials</c>): the number mixed into a worker's token
/// (<see cref="WorkerTokens"/>). A name never seen has generation 0. The generation outlives the
/// worker's row: pruning a worker or completing its retirement bumps it in the statement that
/// deletes the worker (<see cref="Scheduling.WorkerRepository.PruneAsync"/>, the <c>workers</c>
/// collector), and <see cref="RotateAsync"/> bumps it by hand; either way the old token is refused
/// from then on and the new one is <c>atc-gc worker-token NAME</c>.
/// </summary>
public sealed class WorkerCredentials(NpgsqlDataSource dataSource)
{
    /// <summary>The worker's current token generation; 0 for a name never revoked.</summary>
    public Task<long> GenerationAsync(string name, CancellationToken cancellationToken = default)
    {
        WorkerNames.Validate(name, nameof(name));
        return dataSource.ScalarAsync<long>(
            "SELECT coalesce((SELECT generation FROM worker_credentials WHERE name = @name), 0)", new { name }, cancellationToken);
    }

    /// <summary>
    /// Revokes the worker's token by bumping its generation, and returns the new generation. The
    /// worker's row and volumes are left alone: its agent is refused until it is given the new token,
    /// and the collector calls it with the new token (which its agent refuses until then).
    /// </summary>
    public Task<long> RotateAsync(string name, CancellationToken cancellationToken = default)
    {
        WorkerNames.Validate(name, nameof(name));
        return dataSource.ScalarAsync<long>(
            """
            INSERT INTO worker_credentials (name, generation, rotated_at) VALUES (@name, 1, now())
            ON CONFLICT (name) DO UPDATE SET generation = worker_credentials.generation + 1, rotated_at = now()
            RETURNING generation
            """, new { name }, cancellationToken);
    }

    /// <summary>Where to call a registered worker and with which token generation (one query); null when it is unknown or has no address.</summary>
    public async Task<WorkerEndpoint?> EndpointAsync(string name, CancellationToken cancellationToken = default)
    {
        var row = await dataSource.QuerySingleOrDefaultAsync<EndpointRow>(
            """
            SELECT w.base_url, coalesce(c.generation, 0) AS generation
            FROM workers w LEFT JOIN worker_credentials c ON c.name = w.name
            WHERE w.name = @name
            """, new { name }, cancellationToken);
        return row is { BaseUrl: { } url } && Uri.TryCreate(url, UriKind.Absolute, out var baseUrl)
            ? new WorkerEndpoint(name, baseUrl, row.Generation)
            : null;
    }

    private sealed class EndpointRow
    {
        public string? BaseUrl { get; init; }

        public long Generation { get; init; }
    }
}
