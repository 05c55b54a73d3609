using Atc.Gc.Database;
using Atc.Gc.Embedded;
using Atc.Gc.Workers;
using Microsoft.Extensions.Configuration;

namespace Atc.Gc.Cli;

/// <summary>
/// The secret worker tokens are derived from: <c>Workers:TokenSecret</c> (or <c>ATC_GC_WORKER_SECRET</c>)
/// when configured; otherwise, only with the embedded cluster (<c>--embedded</c>), a secret generated once
/// and kept private beside it (<see cref="EmbeddedWorkerSecret"/>), so a local orchestrator, its workers
/// and <c>atc-gc worker-token</c> agree without set-up. With a configured database it must be configured.
/// </summary>
public static class WorkerSecret
{
    public const string ConfigurationKey = "Workers:TokenSecret";

    /// <param name="database">The chosen database (<see cref="CliContext.ChooseDatabase"/>); null when none is.</param>
    public static string Resolve(IConfiguration configuration, DatabaseChoice? database)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var configured = configuration[ConfigurationKey];
        if (!string.IsNullOrEmpty(configured))
        {
            WorkerTokens.RequireSecret(configured);
            return configured;
        }

        return database switch
        {
            null => throw new DatabaseUnavailableException(DatabaseSettings.NotConfigured),
            { IsEmbedded: false } => throw new UsageException(WorkerClientOptions.MissingSecret),
            _ => EmbeddedWorkerSecret.ReadOrCreate(EmbeddedPostgresOptions.DefaultDirectory()),
        };
    }
}
