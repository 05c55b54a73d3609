namespace Atc.Gc.Collection;

/// <summary>A collector that is one chunked statement: its name, its SQL and the statement's parameters.</summary>
public abstract class ChunkedCollector : ICollector
{
    public abstract string Name { get; }

    /// <summary>The chunked statement (see <see cref="ChunkedStatement"/>).</summary>
    protected abstract string Statement { get; }

    /// <summary>Parameters besides <c>@after</c> and <c>@limit</c>.</summary>
    protected virtual object? Parameters(CollectorOptions options) => null;

    public async Task CollectAsync(CollectionPass pass, CollectorTally tally, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pass);
        ArgumentNullException.ThrowIfNull(tally);
        await using var db = await pass.ConnectAsync(cancellationToken);
        var totals = await ChunkedStatement.RunAsync(db, Statement, Parameters(pass.Options), pass.Options.BatchSize, cancellationToken);
        tally.Add(totals);
        if (!pass.DryRun)
        {
            Collected(totals);
        }
    }

    /// <summary>Called with what a real (not dry-run) run changed.</summary>
    protected virtual void Collected(ChunkTotals totals)
    {
    }
}
