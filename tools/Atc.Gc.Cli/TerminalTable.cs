using Spectre.Console;

namespace Atc.Gc.Cli;

/// <summary>A table drawn to fit the terminal's width (cells wrap), for stdout when it is a terminal.</summary>
public static class TerminalTable
{
    /// <param name="rightAligned">Columns (by index) whose cells are numbers, aligned right.</param>
    public static void Write(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows, IReadOnlySet<int>? rightAligned = null)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(rows);
        var table = new Table().Border(TableBorder.Rounded);
        for (var i = 0; i < headers.Count; i++)
        {
            var column = new TableColumn(new Text(headers[i], new Style(decoration: Decoration.Bold)));
            table.AddColumn(rightAligned?.Contains(i) == true ? column.RightAligned() : column);
        }

        foreach (var row in rows)
        {
            table.AddRow(row.Select(cell => new Text(cell)));
        }

        Terminal.Out.Write(table);
    }
}
