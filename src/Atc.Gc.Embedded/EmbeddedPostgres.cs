using System.Globalization;
using Atc.Gc.Database;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Atc.Gc.Embedded;

/// <summary>
/// A private PostgreSQL cluster started from the installed server binaries, for when a process asks for
/// the embedded cluster. It accepts only its owner: no TCP listener, one Unix socket in a directory only
/// the server's user (and root) can enter. The first process to start it owns it and stops it when it
/// exits; a process that finds it already running under a live owner uses it as a guest and leaves it
/// running; a cluster whose owner died is adopted by the next process.
/// </summary>
public sealed class EmbeddedPostgres : IDatabaseServer
{
    private const string ListenAddresses = "listen_addresses";

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

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
        ConnectionString = BuildConnectionString(SocketDirectory, port, options.Database);
        if (ownsServer)
        {
            AppDomain.CurrentDomain.ProcessExit += StopOnProcessExit;
        }
    }

    /// <summary>
    /// The embedded directory, private to the user running atc-gc: <c>data/</c> (PGDATA), <c>run/</c> (the
    /// socket) and <c>postgres.log</c>, which alone are given to the server user when running as root, and
    /// the worker token secret (<see cref="EmbeddedWorkerSecret"/>), which never is.
    /// </summary>
    public string Directory { get; }

    public string DataDirectory => Path.Combine(Directory, "data");

    /// <summary>The directory of the server's only socket, <c>.s.PGSQL.&lt;port&gt;</c>; private to the server's user.</summary>
    public string SocketDirectory => Path.Combine(Directory, "run");

    /// <summary>The port number, which names the socket file (the server listens on no TCP address unless told to).</summary>
    public int Port { get; }

    /// <summary>True when this process started (or adopted) the server and will stop it.</summary>
    public bool OwnsServer { get; }

    /// <summary>Connection string to the Atc.Gc database in the cluster.</summary>
    public string ConnectionString { get; }

    public int MajorVersion => binaries.MajorVersion;

    /// <summary>Where the cluster keeps its socket and its data, for log lines.</summary>
    public string Describe() => $"embedded, socket in {SocketDirectory}, data in {DataDirectory}";

    public static async Task<EmbeddedPostgres> StartAsync(
        EmbeddedPostgresOptions options, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        logger ??= NullLogger.Instance;
        var binaries = PostgresBinaries.Locate();
        var directory = Path.GetFullPath(options.Directory ?? EmbeddedPostgresOptions.DefaultDirectory());
        if (options.JoinOnly)
        {
            return await JoinAsync(binaries, options, directory, logger, cancellationToken);
        }

        PrivateDirectory.Ensure(directory);
        await ServerProcess.LetServerTraverseAsync(directory, cancellationToken);

        int port;
        bool owns;
        using (await AcquireStartLockAsync(directory, options.StartTimeout, cancellationToken))
        {
            var data = Path.Combine(directory, "data");
            var version = Path.Combine(data, "PG_VERSION");
            if (!File.Exists(version))
            {
                await InitializeClusterAsync(binaries, directory, logger, cancellationToken);
            }
            else if ((await File.ReadAllTextAsync(version, cancellationToken)).Trim() is var made
                     && binaries.MajorVersion > 0 && made != binaries.MajorVersion.ToString(CultureInfo.InvariantCulture))
            {
                throw new EmbeddedPostgresException(
                    $"the embedded cluster in {data} was made by PostgreSQL {made}, but the server binaries found are version {binaries.MajorVersion} (in {binaries.Directory}): upgrade the cluster or point {EmbeddedPostgresOptions.DirectoryVariable} elsewhere");
            }

            var running = await RunningPortAsync(binaries, data, options, cancellationToken);
            if (running is { } runningPort)
            {
                port = runningPort;
                owns = !OwnerIsAlive(directory);
                if (owns)
                {
                    WriteOwner(directory);
                }

                logger.LogInformation(
                    "Embedded PostgreSQL already running on socket {Socket} ({Role}), data in {Directory}",
                    SocketFile(directory, port), owns ? "adopted" : "shared", data);
            }
            else
            {
                port = await StartServerAsync(binaries, options, directory, cancellationToken);
                owns = true;
                WriteOwner(directory);
                logger.LogInformation(
                    "Embedded PostgreSQL {Major} started on socket {Socket}, data in {Directory}",
                    binaries.MajorVersion, SocketFile(directory, port), data);
            }
        }

        var server = new EmbeddedPostgres(binaries, options, directory, port, owns, logger);
        try
        {
            await EnsureDatabaseAsync(server.SocketDirectory, port, options.Database, options.FreshDatabase, cancellationToken);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>The cluster in <paramref name="directory"/> when it is running, shared and never stopped by this process.</summary>
    private static async Task<EmbeddedPostgres> JoinAsync(
        PostgresBinaries binaries, EmbeddedPostgresOptions options, string directory, ILogger logger, CancellationToken cancellationToken)
    {
        var data = Path.Combine(directory, "data");
        var running = File.Exists(Path.Combine(data, "PG_VERSION")) ? await RunningPortAsync(binaries, data, options, cancellationToken) : null;
        if (running is not { } port)
        {
            throw new EmbeddedPostgresException(
                $"the embedded cluster in {directory} is not running, and this command does not start it: start it with 'atc-gc migrate --embedded' or 'atc-gc serve --embedded'");
        }

        logger.LogInformation("Embedded PostgreSQL running on socket {Socket} (shared), data in {Directory}", SocketFile(directory, port), data);
        return new EmbeddedPostgres(binaries, options, directory, port, ownsServer: false, logger);
    }

    /// <summary>
    /// Restarts the server (fast shutdown: sessions are cut), as an outage would; for fault-injecting
    /// tests. The new server inherits pg_ctl's output, so that goes to the cluster's log rather than to
    /// a pipe this process would wait on for as long as the server runs.
    /// </summary>
    internal async Task RestartAsync(CancellationToken cancellationToken)
    {
        var log = Path.Combine(Directory, "postgres.log");
        var result = await ServerProcess.RunAsync(
            "/bin/sh", ["-c", $"exec '{binaries.PgCtl}' restart -D '{DataDirectory}' -m fast -w -t 60 >> '{log}' 2>&1"], cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new EmbeddedPostgresException($"restarting embedded PostgreSQL failed: {LastLine(result.Output)}");
        }
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

    /// <summary>Through the socket: Npgsql takes a Host that is a directory as the socket's, and the port names the file in it.</summary>
    private static string BuildConnectionString(string socketDirectory, int port, string database) => new NpgsqlConnectionStringBuilder
    {
        Host = socketDirectory,
        Port = port,
        Username = "postgres",
        Database = database,
    }.ConnectionString;

    private static string SocketFile(string directory, int port) =>
        Path.Combine(directory, "run", ".s.PGSQL." + port.ToString(CultureInfo.InvariantCulture));

    private static async Task InitializeClusterAsync(PostgresBinaries binaries, string directory, ILogger logger, CancellationToken cancellationToken)
    {
        var data = Path.Combine(directory, "data");
        if (System.IO.Directory.Exists(data))
        {
            // A half-made cluster (initdb interrupted): initdb needs an empty directory.
            System.IO.Directory.Delete(data, recursive: true);
        }

        System.IO.Directory.CreateDirectory(data, OwnerOnly);
        await ServerProcess.HandOverAsync([data], cancellationToken);
        logger.LogInformation("Creating embedded PostgreSQL cluster in {Directory}", data);

        // Who may connect is decided by who can reach the socket (its directory is private to the server's
        // user); over TCP, which the server does not listen on unless told to, only a password would do,
        // and the postgres role has none.
        var result = await ServerProcess.RunAsync(
            binaries.InitDb,
            ["-D", data, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale", "--no-sync"],
            cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new EmbeddedPostgresException($"initdb failed for {data}: {LastLine(result.Output)}");
        }
    }

    private static async Task<int?> RunningPortAsync(
        PostgresBinaries binaries, string data, EmbeddedPostgresOptions options, CancellationToken cancellationToken)
    {
        var status = await ServerProcess.RunAsync(binaries.PgCtl, ["status", "-D", data], cancellationToken);
        if (status.ExitCode != 0)
        {
            return null;
        }

        // postmaster.pid: pid, data directory, start time, port, socket directory, listen address, ...
        var lines = await File.ReadAllLinesAsync(Path.Combine(data, "postmaster.pid"), cancellationToken);
        if (lines.Length <= 3 || !int.TryParse(lines[3], NumberStyles.Integer, CultureInfo.InvariantCulture, out var port))
        {
            throw new EmbeddedPostgresException($"the running cluster in {data} did not record its port");
        }

        var listening = lines.Length > 5 ? lines[5].Trim() : string.Empty;
        if (listening.Length > 0 && !options.Settings.ContainsKey(ListenAddresses))
        {
            // Started by someone else (or an older atc-gc) with a TCP listener: not ours to use.
            throw new EmbeddedPostgresException(
                $"the running cluster in {data} listens on TCP ({listening}): stop it (pg_ctl stop -D {data}) so that it starts again on its private socket only");
        }

        return port;
    }

    private static async Task<int> StartServerAsync(
        PostgresBinaries binaries, EmbeddedPostgresOptions options, string directory, CancellationToken cancellationToken)
    {
        var data = Path.Combine(directory, "data");
        var log = Path.Combine(directory, "postgres.log");
        var run = Path.Combine(directory, "run");
        System.IO.Directory.CreateDirectory(run, OwnerOnly);
        File.SetUnixFileMode(run, OwnerOnly);
        new FileStream(log, new FileStreamOptions
        {
            Mode = FileMode.OpenOrCreate,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }).Dispose();

        await ServerProcess.HandOverAsync([run, log], cancellationToken);

        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [ListenAddresses] = "''",
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

        // The socket, whatever the caller's settings: in a directory only the server's user (and root) can enter.
        settings["unix_socket_directories"] = $"'{run}'";
        settings["unix_socket_permissions"] = "0700";

        const int attempts = 3;
        for (var attempt = 1; ; attempt++)
        {
            var port = EphemeralPort.Next();
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

    private static async Task EnsureDatabaseAsync(string socketDirectory, int port, string database, bool fresh, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(BuildConnectionString(socketDirectory, port, "postgres"))
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
                return new FileStream(path, new FileStreamOptions
                {
                    Mode = FileMode.OpenOrCreate,
                    Access = FileAccess.ReadWrite,
                    Share = FileShare.None,
                    UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                });
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
