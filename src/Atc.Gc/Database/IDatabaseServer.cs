namespace Atc.Gc.Database;

/// <summary>
/// A database server this process holds for as long as it uses the database (a private cluster
/// started for it): <see cref="AtcGcDatabase"/> opened on it disposes it when the database is disposed.
/// </summary>
public interface IDatabaseServer : IAsyncDisposable
{
    /// <summary>Connection string to the Atc.Gc database on this server.</summary>
    string ConnectionString { get; }

    /// <summary>Where the server is, for <see cref="AtcGcDatabase.Describe"/>'s log lines (never a password).</summary>
    string Describe();
}
