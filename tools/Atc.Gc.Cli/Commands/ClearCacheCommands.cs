using System.CommandLine;
using Atc.Gc.Operations;

namespace Atc.Gc.Cli.Commands;

/// <summary><c>clear-resource-cache</c> and <c>clear-task-cache</c>: operators invalidating caches.</summary>
public static class ClearCacheCommands
{
    public static Command ResourceCache(CliContext context)
    {
        var pipeline = new Option<string>("--pipeline") { Description = "The pipeline", Required = true };
        var resource = new Option<string>("--resource") { Description = "The resource whose caches to clear", Required = true };
        var version = new Option<string?>("--version") { Description = "Only this version, as JSON (e.g. '{\"ref\":\"abc\"}')" };
        var json = ListCommands.Json();
        var command = new Command("clear-resource-cache", "Invalidate a resource's caches; their volumes are collected on the next pass") { pipeline, resource, version, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var session = await context.InspectAsync(parse, cancellationToken);
            var result = await new CacheInvalidation(session.Database.DataSource).ClearResourceCacheAsync(
                parse.GetValue(pipeline)!, parse.GetValue(resource)!, parse.GetValue(version), cancellationToken);
            if (parse.GetValue(json))
            {
                Output.Json(result);
                return ExitCodes.Success;
            }

            Console.Out.WriteLine($"cleared {result.Caches} cache(s) of {parse.GetValue(pipeline)}/{parse.GetValue(resource)}; {result.Volumes} volume(s) released for collection");
            foreach (var kept in result.Kept)
            {
                Console.Out.WriteLine($"kept cache {kept.CacheId} (version {kept.Version}): {kept.Reason}");
            }

            return ExitCodes.Success;
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
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var session = await context.InspectAsync(parse, cancellationToken);
            var result = await new CacheInvalidation(session.Database.DataSource).ClearTaskCacheAsync(
                parse.GetValue(pipeline)!, parse.GetValue(job)!, parse.GetValue(step)!, parse.GetValue(path), cancellationToken);
            if (parse.GetValue(json))
            {
                Output.Json(result);
                return ExitCodes.Success;
            }

            Console.Out.WriteLine(result.TaskCaches == 0
                ? $"no task cache of {parse.GetValue(pipeline)}/{parse.GetValue(job)} step {parse.GetValue(step)}{(parse.GetValue(path) is { } p ? $" path {p}" : string.Empty)}"
                : $"cleared {result.TaskCaches} task cache(s); {result.Volumes} volume(s) released for collection");
            return ExitCodes.Success;
        });
        return command;
    }
}
