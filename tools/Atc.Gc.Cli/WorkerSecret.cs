using Atc.Gc.Database;
using Atc.Gc.Embedded;
using Atc.Gc.Workers;
using Microsoft.Extensions.Configuration;

namespace Atc.Gc.Cli;

/// <summary>
/// The secret worker tokens are derived from: <c>Workers:TokenSecret</c> (or <c>ATC_GC_WORKER_SECRET</c>)
/// when configured; otherwise, when the database is the embedded default, a secret generated once and
/// kept beside the embedded cluster (<c>&lt;dir&gt;/worker-token-secret</c>, mode 600), so a local
/// orchestrator, its workers and <c>atc-gc worker-token</c> agree without set-up.
/// </summary>
public static class WorkerSecret
{
    public const string ConfigurationKey = "Workers:TokenSecret";

    public static string Resolve(IConfiguration configuration, string? databaseOption)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var configured = configuration[ConfigurationKey];
        if (!string.IsNullOrEmpty(configured))
        {
            WorkerTokens.RequireSecret(configured);
            return configured;
        }

        if (DatabaseSettings.Resolve(databaseOption, configuration) is not null)
        {
            throw new UsageException(WorkerClientOptions.MissingSecret);
        }

        var directory = EmbeddedPostgresOptions.DefaultDirectory(PostgresBinaries.Locate().MajorVersion);
        Directory.CreateDirectory(directory);
        var file = Path.Combine(directory, "worker-token-secret");
        if (!File.Exists(file))
        {
            using var stream = new FileStream(file, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            using var writer = new StreamWriter(stream);
            writer.Write(WorkerTokens.NewSecret());
        }

        return File.ReadAllText(file).Trim();
    }
}
