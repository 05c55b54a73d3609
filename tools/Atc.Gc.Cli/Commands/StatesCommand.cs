using System.CommandLine;
using Atc.Gc.Lifecycle;

namespace Atc.Gc.Cli.Commands;

/// <summary><c>atc-gc states</c>: the volume lifecycle diagram, from its one definition.</summary>
public static class StatesCommand
{
    public static Command Create()
    {
        var format = new Option<string>("--format")
        {
            Description = "Diagram language",
            DefaultValueFactory = _ => "mermaid",
        };
        format.AcceptOnlyFromAmong("dot", "mermaid");

        var command = new Command("states", "Print the volume lifecycle as a diagram (Graphviz DOT or Mermaid)") { format };
        command.SetAction(parse =>
        {
            Console.Out.Write(parse.GetValue(format) == "dot" ? VolumeLifecycle.ToDot() : VolumeLifecycle.ToMermaid());
            Console.Out.WriteLine();
            return ExitCodes.Success;
        });
        return command;
    }
}
