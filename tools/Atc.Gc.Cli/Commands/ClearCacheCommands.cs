using System.CommandLine;
using Atc.Gc.Operations;

namespace Atc.Gc.Cli.Commands;

/// <summary><c>clear-resource-cache</c> and <c>clear-task-cache</c>: operators invalidating caches, after showing what goes (--yes, --dry-run).</summary>
public static class ClearCacheCommands
{
    public static Command ResourceCache(CliContext context)
    {
        var pipeline = new Option<string>("--pipeline") { Description = "The pipeline", Required = true };
        var resource = new Option<string>("--resource") { Description = "The resource whose caches to clear", Required = true };
        var version = new Option<string?>("--version") { Description = "Only this version, as JSON (e.g. '{\"ref\":\"abc\"}')" };
        var json = ListCommands.Json();
        var command = new Command("clear-resource-cache", "Invalidate a resource's caches; their volumes are collected on the next pass") { pipeline, resource, version, json };
        var confirmation = Confirmation.For(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            confirmation.RequireAnswerable(parse);
            await using var session = await context.InspectAsync(parse, cancellationToken);
            var caches = new CacheInvalidation(session.Database.DataSource);
            Task<ClearResourceCacheResult> ClearAsync(bool dryRun) => caches.ClearResourceCacheAsync(
                parse.GetValue(pipeline)!, parse.GetValue(resource)!, parse.GetValue(version), dryRun, cancellationToken);
            var target = $"{parse.GetValue(pipeline)}/{parse.GetValue(resource)}";
            return await confirmation.RunAsync(
                parse,
                parse.GetValue(json),
                async () =>
                {
                    var preview = await ClearAsync(dryRun: true);
                    return new Plan([.. Describe(preview, target, planned: true)], preview);
                },
                async () =>
                {
                    var result = await ClearAsync(dryRun: false);
                    Print(parse.GetValue(json), result, Describe(result, target, planned: false));
                    return ExitCodes.Success;
                });
        });
        return command;
    }

    public static Command TaskCache(CliContext context)
    {
        var pipeline = new Option<string>("--pipeline") { Description = "The pipeline", Required = true };
        var job = new Option<string>("--job") { Description = "The job", Required = true };
        var step = new Option<string>("--step") { Description = "The task step", Required = true };
        var path = new Option<string?>("--path") { Description = "Only the cache of this path" };
        var json = ListCommands.Json();
        var command = new Command("clear-task-cache", "Invalidate a task step's caches; their volumes are collected on the next pass") { pipeline, job, step, path, json };
        var confirmation = Confirmation.For(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            confirmation.RequireAnswerable(parse);
            await using var session = await context.InspectAsync(parse, cancellationToken);
            var caches = new CacheInvalidation(session.Database.DataSource);
            Task<ClearTaskCacheResult> ClearAsync(bool dryRun) => caches.ClearTaskCacheAsync(
                parse.GetValue(pipeline)!, parse.GetValue(job)!, parse.GetValue(step)!, parse.GetValue(path), dryRun, cancellationToken);
            var target = $"{parse.GetValue(pipeline)}/{parse.GetValue(job)} step {parse.GetValue(step)}{(parse.GetValue(path) is { } p ? $" path {p}" : string.Empty)}";
            return await confirmation.RunAsync(
                parse,
                parse.GetValue(json),
                async () =>
                {
                    var preview = await ClearAsync(dryRun: true);
                    return new Plan([Describe(preview, target, planned: true)], preview);
                },
                async () =>
                {
                    var result = await ClearAsync(dryRun: false);
                    Print(parse.GetValue(json), result, [Describe(result, target, planned: false)]);
                    return ExitCodes.Success;
                });
        });
        return command;
    }

    private static void Print(bool json, object result, IEnumerable<string> lines)
    {
        if (json)
        {
            Output.Json(result);
            return;
        }

        foreach (var line in lines)
        {
            Console.Out.WriteLine(line);
        }
    }

    /// <summary>What a clear did, or (<paramref name="planned"/>) would do.</summary>
    private static IEnumerable<string> Describe(ClearResourceCacheResult result, string target, bool planned)
    {
        yield return $"{(planned ? "would clear" : "cleared")} {result.Caches} cache(s) of {target}; {result.Volumes} volume(s) {(planned ? "would be " : string.Empty)}released for collection";
        foreach (var kept in result.Kept)
        {
            yield return $"{(planned ? "would keep" : "kept")} cache {kept.CacheId} (version {kept.Version}): {kept.Reason}";
        }
    }

    private static string Describe(ClearTaskCacheResult result, string target, bool planned) => result.TaskCaches == 0
        ? $"no task cache of {target}"
        : $"{(planned ? "would clear" : "cleared")} {result.TaskCaches} task cache(s); {result.Volumes} volume(s) {(planned ? "would be " : string.Empty)}released for collection";
}
