namespace Atc.Gc.Collection;

/// <summary>
/// One step of a collection pass, named after what it collects. Each is a few set-based statements
/// worked in bounded chunks; each is repeatable, so a pass interrupted anywhere is finished by the next.
/// </summary>
public interface ICollector
{
    /// <summary>Short name for logs, metrics and reports ("builds", "orphaned-volumes").</summary>
    string Name { get; }

    /// <summary>Runs the collector once, adding what it did to <paramref name="tally"/>.</summary>
    Task CollectAsync(CollectionPass pass, CollectorTally tally, CancellationToken cancellationToken);
}
