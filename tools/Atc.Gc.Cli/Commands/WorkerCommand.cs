using System.CommandLine;
using Atc.Gc.Agent;
using Atc.Gc.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Atc.Gc.Cli.Commands;

/// <summary><c>atc-gc worker</c>: a worker agent holding volumes under a directory.</summary>
public static class WorkerCommand
{
    public static Command Create(CliContext context)
    {
        var name = new Option<string?>("--name") { Description = "The worker's name (default Agent:Name; one of the two is required)" };
        var root = new Option<string?>("--root") { Description = "Directory volumes live under (default Agent:Root; one of the two is required)" };
        var listen = new Option<string?>("--listen") { Description = "Address to listen on (port 0 picks a free port); default Agent:Listen, else http://127.0.0.1:7788" };
        var orchestrator = CliOptions.Url("--orchestrator", "The orchestrator's URL (register, heartbeat, report); none for a standalone agent");
        var token = new Option<string?>("--token")
        {
            Description = "This worker's token (visible to every local user in the process list: prefer --token-file or $ATC_GC_WORKER_TOKEN; atc-gc worker-token <name> prints it)",
        };
        var tokenFile = new Option<string?>("--token-file")
        {
            Description = "A file holding this worker's token, readable only by its owner (mode 0600 or 0400)",
        };
        var advertise = CliOptions.Url("--advertise-url", "The URL the orchestrator should call (default: the listen address)");
        var resourceTypes = new Option<string[]>("--resource-type") { Description = "A base resource type this worker provides, as name=image@version (repeatable)" };
        var heartbeat = CliOptions.Duration("--heartbeat-interval", "Time between heartbeats (default 10s)");
        var report = CliOptions.Duration("--report-interval", "Time between full volume reports (default 30s)");
        var driver = new Option<string>("--driver")
        {
            Description = "How volumes are made: detect (btrfs on btrfs, overlay where a mount works, else naive), overlay, naive or btrfs",
            DefaultValueFactory = _ => "detect",
        };
        driver.AcceptOnlyFromAmong("detect", "overlay", "naive", "btrfs");
        var maxBytes = new Option<string?>("--max-bytes") { Description = "The most the volumes may take, in bytes or with K, M, G, T (e.g. 50G); creates past it are refused" };
        maxBytes.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } text && ParseBytes(text) is null)
            {
                result.AddError($"--max-bytes: '{text}' is not a size; expected bytes or a number with K, M, G or T (e.g. 50G)");
            }
        });

        var command = new Command("worker", "Run a worker agent: volumes on disk (overlay, btrfs or copies), the volume API, the orchestrator link")
        {
            name, root, listen, orchestrator, token, tokenFile, advertise, resourceTypes, heartbeat, report, driver, maxBytes,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new Dictionary<string, string?>
            {
                ["Agent:Name"] = parse.GetValue(name),
                ["Agent:Root"] = parse.GetValue(root),
                ["Agent:Listen"] = parse.GetValue(listen),
                ["Agent:Orchestrator"] = parse.GetValue(orchestrator)?.ToString(),
                ["Agent:Token"] = Token(parse, token, tokenFile),
                ["Agent:AdvertiseUrl"] = parse.GetValue(advertise)?.ToString(),
                ["Agent:HeartbeatInterval"] = parse.GetValue(heartbeat)?.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
                ["Agent:ReportInterval"] = parse.GetValue(report)?.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
                ["Agent:Driver"] = parse.GetResult(driver) is null ? null : parse.GetValue(driver),
                ["Agent:MaxBytes"] = parse.GetValue(maxBytes) is { } cap ? ParseBytes(cap)?.ToString(System.Globalization.CultureInfo.InvariantCulture) : null,
            };
            var types = parse.GetValue(resourceTypes) ?? [];
            for (var i = 0; i < types.Length; i++)
            {
                options[$"Agent:ResourceTypes:{i}"] = types[i];
            }

            await using var app = AgentHost.Build(context.Settings(parse, options, host: true));
            await app.StartAsync(cancellationToken);
            var agent = app.Services.GetRequiredService<IOptions<AgentOptions>>().Value;
            Console.Out.WriteLine(
                $"atc-gc worker '{agent.Name}' listening on {Web.ServerAddresses.First(app.Services.GetRequiredService<IServer>())}, " +
                $"volumes in {Path.GetFullPath(agent.Root!)} ({app.Services.GetRequiredService<VolumeStore>().DriverName} driver)");
            await app.WaitForShutdownAsync(cancellationToken);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Bytes from <c>1048576</c>, <c>512M</c>, <c>50G</c> (powers of 1024); null when it is not a size.</summary>
    internal static long? ParseBytes(string text)
    {
        var trimmed = text.Trim();
        var unit = trimmed.Length > 0 ? char.ToUpperInvariant(trimmed[^1]) : ' ';
        var shift = unit switch { 'K' => 10, 'M' => 20, 'G' => 30, 'T' => 40, _ => 0 };
        var number = shift == 0 ? trimmed : trimmed[..^1];
        return long.TryParse(number, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value)
               && value > 0 && value <= long.MaxValue >> shift
            ? value << shift
            : null;
    }

    /// <summary>
    /// The worker's token: <c>--token</c> (with a warning: the command line is public), else
    /// <c>--token-file</c> (a private file); else none, and the settings' <c>Agent:Token</c>
    /// (<c>ATC_GC_WORKER_TOKEN</c>, <c>Agent__Token</c>, a settings file) is used. Never printed.
    /// </summary>
    private static string? Token(ParseResult parse, Option<string?> token, Option<string?> tokenFile)
    {
        var inline = parse.GetValue(token);
        var file = parse.GetValue(tokenFile);
        if (inline is not null && file is not null)
        {
            throw new UsageException("--token and --token-file cannot be combined: give the token one way");
        }

        if (inline is not null)
        {
            Console.Error.WriteLine(
                "atc-gc: warning: --token puts the worker's token on the command line, where every local user can read it (/proc/<pid>/cmdline); use --token-file or ATC_GC_WORKER_TOKEN");
            return inline;
        }

        if (file is not null)
        {
            try
            {
                return PrivateFile.ReadSecret(file);
            }
            catch (InvalidOperationException ex)
            {
                throw new UsageException($"--token-file: {ex.Message}");
            }
        }

        return null;
    }
}
