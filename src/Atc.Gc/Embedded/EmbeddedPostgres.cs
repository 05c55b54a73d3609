using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Atc.Gc.Embedded;

/// <summary>
/// A private PostgreSQL cluster started from the installed server binaries, on loopback, for when no
/// connection string is configured. The first process to start it owns it and stops it when it exits;
/// a process that finds it already running under a live owner uses it as a guest and leaves it
/// running; a cluster whose owner died is adopted by the next process.
/// </summary>
public sealed class EmbeddedPostgres : IAsyncDisposable
{
    private readonly PostgresBinaries binaries;
    private readonly EmbeddedPostgresOptions options;
    private readonly ILogger logger;
    private int stopped;

    private EmbeddedPostgres(PostgresBinaries binaries, EmbeddedPostgresOptions options, string directory, int port, bool ownsServer, ILogger logger)
    {
        this.binaries = binaries;
        this.options = options;
        this.logger = logger;
        Directory = directory;
        Port = port;
        OwnsServer = ownsServer;
        ConnectionString = BuildConnectionString(port, options.Database);
        if (ownsServer)
        {
            AppDomain.CurrentDomain.ProcessExit += StopOnProcessExit;
        }
    }

    /// <summary>The cluster directory (PGDATA is its <c>data/</c> subdirectory).</summary>
    public string Directory { get; }

    public string DataDirectory => Path.Combine(Directory, "data");

    public int Port { get; }

    /// <summary>True when this process started (or adopted) the server and will stop it.</summary>
    public bool OwnsServer { get; }

    /// <summary>Connection string to the Atc.Gc database in the cluster.</summary>
    public string ConnectionString { get; }

    public int MajorVersion => binaries.MajorVersion;

    public static async Task<EmbeddedPostgres> StartAsync(
        EmbeddedPostgresOptions options, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        logger ??= NullLogger.Instance;
        var binaries = PostgresBinaries.Locate();
        var directory = Path.GetFullPath(options.Directory ?? EmbeddedPostgresOptions.DefaultDirectory(binaries.MajorVersion));
        System.IO.Directory.CreateDirectory(directory);

        int port;
        bool owns;
        using (await AcquireStartLockAsync(directory, options.StartTimeout, cancellationToken))
        {
            var data = Path.Combine(directory, "data");
            if (!File.Exists(Path.Combine(data, "PG_VERSION")))
            {
                await InitializeClusterAsync(binaries, directory, logger, cancellationToken);
            }

            var running = await RunningPortAsync(binaries, data, cancellationToken);
            if (running is { } runningPort)
            {
                port = runningPort;
                owns = !OwnerIsAlive(directory);
                if (owns)
                {
                    WriteOwner(directory);
                }

                logger.LogInformation(
                    "Embedded PostgreSQL already running on 127.0.0.1:{Port} ({Role}), data in {Directory}",
                    port, owns ? "adopted" : "shared", data);
            }
            else
            {
                port = await StartServerAsync(binaries, options, directory, cancellationToken);
                owns = true;
                WriteOwner(directory);
                logger.LogInformation(
                    "Embedded PostgreSQL {Major} started on 127.0.0.1:{Port}, data in {Directory}",
                    binaries.MajorVersion, port, data);
            }
        }

        var server = new EmbeddedPostgres(binaries, options, directory, port, owns, logger);
        try
        {
            await EnsureDatabaseAsync(port, options.Database, options.FreshDatabase, cancellationToken);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    public async ValueTask DisposeAsync()
    {
        if (!OwnsServer || Interlocked.Exchange(ref stopped, 1) == 1)
        {
            return;
        }

        AppDomain.CurrentDomain.ProcessExit -= StopOnProcessExit;
        NpgsqlConnection.ClearAllPools();
        var result = await ServerProcess.RunAsync(
            binaries.PgCtl, ["stop", "-D", DataDirectory, "-m", "fast", "-w", "-t", "60"], CancellationToken.None);
        if (result.ExitCode != 0)
        {
            logger.LogWarning("Stopping embedded PostgreSQL failed: {Output}", result.Output);
        }
        else
        {
            logger.LogInformation("Embedded PostgreSQL on port {Port} stopped", Port);
        }

        TryDelete(Path.Combine(Directory, "owner.pid"));
        if (options.Ephemeral)
        {
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (IOException ex)
            {
                logger.LogWarning("Could not remove {Directory}: {Message}", Directory, ex.Message);
            }
        }
    }

    private void StopOnProcessExit(object? sender, EventArgs e) => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private static string BuildConnectionString(int port, string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = port,
        Username = "postgres",
        Database = database,
    }.ConnectionString;

    private static async Task InitializeClusterAsync(PostgresBinaries binaries, string directory, ILogger logger, CancellationToken cancellationToken)
    {
        var data = Path.Combine(directory, "data");
        if (System.IO.Directory.Exists(data))
        {
            // A half-made cluster (initdb interrupted): initdb needs an empty directory.
            System.IO.Directory.Delete(data, recursive: true);
        }

        System.IO.Directory.CreateDirectory(Path.Combine(directory, "run"));
        await ServerProcess.HandOverAsync(directory, cancellationToken);
        logger.LogInformation("Creating embedded PostgreSQL cluster in {Directory}", data);
        var result = await ServerProcess.RunAsync(
            binaries.InitDb,
            ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"],
            cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new EmbeddedPostgresException($"initdb failed for {data}: {LastLine(result.Output)}");
        }
    }

    private static async Task<int?> RunningPortAsync(PostgresBinaries binaries, string data, CancellationToken cancellationToken)
    {
        var status = await ServerProcess.RunAsync(binaries.PgCtl, ["status", "-D", data], cancellationToken);
        if (status.ExitCode != 0)
        {
            return null;
        }

        // postmaster.pid: pid, data directory, start time, port, socket directory, listen address, ...
        var lines = await File.ReadAllLinesAsync(Path.Combine(data, "postmaster.pid"), cancellationToken);
        return lines.Length > 3 && int.TryParse(lines[3], NumberStyles.Integer, CultureInfo.InvariantCulture, out var port)
            ? port
            : throw new EmbeddedPostgresException($"the running cluster in {data} did not record its port");
    }

    private static async Task<int> StartServerAsync(
        PostgresBinaries binaries, EmbeddedPostgresOptions options, string directory, CancellationToken cancellationToken)
    {
        var data = Path.Combine(directory, "data");
        var log = Path.Combine(directory, "postgres.log");
        var run = Path.Combine(directory, "run");
        System.IO.Directory.CreateDirectory(run);
        await ServerProcess.HandOverAsync(directory, cancellationToken);

        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["listen_addresses"] = "127.0.0.1",
            ["unix_socket_directories"] = $"'{run}'",
            ["synchronous_commit"] = "off",
            ["max_connections"] = "200",
        };
        if (options.Ephemeral)
        {
            settings["fsync"] = "off";
            settings["full_page_writes"] = "off";
        }

        foreach (var (name, value) in options.Settings)
        {
            settings[name] = value;
        }

        const int attempts = 3;
        for (var attempt = 1; ; attempt++)
        {
            var port = Hosting.Loopback.FreePort();
            var serverOptions = $"-p {port} " + string.Join(' ', settings.Select(s => $"-c {s.Key}={s.Value}"));
            var result = await ServerProcess.RunAsync(
                binaries.PgCtl,
                ["start", "-D", data, "-l", log, "-w", "-t", ((int)options.StartTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture), "-o", serverOptions],
                cancellationToken);
            if (result.ExitCode == 0)
            {
                return port;
            }

            if (attempt == attempts)
            {
                throw new EmbeddedPostgresException(
                    $"embedded PostgreSQL did not start (see {log}): {LastLine(ReadTail(log) ?? result.Output)}");
            }
        }
    }

    private static async Task EnsureDatabaseAsync(int port, string database, bool fresh, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(BuildConnectionString(port, "postgres"))
        {
            Pooling = false,
        }.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        var quoted = "\"" + database.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
        if (fresh)
        {
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
        exists.Parameters.AddWithValue("name", database);
        if (await exists.ExecuteScalarAsync(cancellationToken) is not null)
        {
            return;
        }

        try
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE {quoted}", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.UniqueViolation)
        {
            // Another process created it first.
        }
    }

    private static async Task<IDisposable> AcquireStartLockAsync(string directory, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var path = Path.Combine(directory, "start.lock");
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            try
            {
                // FileShare.None takes an exclusive advisory lock (flock) on Unix.
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTimeOffset.UtcNow < deadline)
            {
                await Task.Delay(100, cancellationToken);
            }
            catch (IOException ex)
            {
                throw new EmbeddedPostgresException($"another process holds {path} (starting the embedded cluster) for too long", ex);
            }
        }
    }

    private static bool OwnerIsAlive(string directory)
    {
        var file = Path.Combine(directory, "owner.pid");
        return File.Exists(file)
            && int.TryParse(File.ReadAllText(file).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid)
            && System.IO.Directory.Exists($"/proc/{pid}");
    }

    private static void WriteOwner(string directory) =>
        File.WriteAllText(Path.Combine(directory, "owner.pid"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));

    private static string? ReadTail(string file)
    {
        try
        {
            return File.Exists(file) ? string.Join('\n', File.ReadLines(file).TakeLast(3)) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string LastLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "(no output)";

    private static void TryDelete(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (IOException)
        {
        }
    }
}
