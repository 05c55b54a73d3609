using System.CommandLine;
using Atc.Gc.Cli;
using Atc.Gc.Cli.Commands;

var context = new CliContext();
var root = new RootCommand("atc-gc: volume lifecycle and garbage collection for CI workers")
{
    context.Database,
    context.Embedded,
    context.Verbose,
    context.Config,
};
root.Subcommands.Add(MigrateCommand.Create(context));
root.Subcommands.Add(StatesCommand.Create());
root.Subcommands.Add(CollectCommand.Create(context));
root.Subcommands.Add(GcCommand.Create(context));
root.Subcommands.Add(DiskCommand.Create(context));
root.Subcommands.Add(ServeCommand.Create(context));
root.Subcommands.Add(WorkerCommand.Create(context));
root.Subcommands.Add(WorkerTokenCommand.Create(context));
root.Subcommands.Add(WorkerAdminCommands.Land(context));
root.Subcommands.Add(WorkerAdminCommands.Retire(context));
root.Subcommands.Add(WorkerAdminCommands.Prune(context));
root.Subcommands.Add(WorkerAdminCommands.Adopt(context));
root.Subcommands.Add(ClearCacheCommands.ResourceCache(context));
root.Subcommands.Add(ClearCacheCommands.TaskCache(context));
root.Subcommands.Add(ListCommands.Volumes(context));
root.Subcommands.Add(ListCommands.Containers(context));
root.Subcommands.Add(ListCommands.Workers(context));
root.Subcommands.Add(ListCommands.Caches(context));
root.Subcommands.Add(ExplainCommand.Create(context));
root.Subcommands.Add(Atc.Gc.Cli.Demo.DemoCommand.Create(context));

return await CommandRunner.RunAsync(root, args);
