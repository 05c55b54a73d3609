using System.CommandLine;
using Atc.Gc.Database;
using Atc.Gc.Inspection;
using Microsoft.Extensions.Logging;

namespace Atc.Gc.Cli;

/// <summary>A database opened for one command, with its inspector: never migrated, and an embedded cluster only joined when running.</summary>
public sealed class InspectionSession(AtcGcDatabase database, ILoggerFactory loggerFactory) : IAsyncDisposable
{
    public AtcGcDatabase Database { get; } = database;

    public Inspector Inspector { get; } = new(database.DataSource);

    public ILoggerFactory LoggerFactory { get; } = loggerFactory;

    public async ValueTask DisposeAsync()
    {
        await Database.DisposeAsync();
        LoggerFactory.Dispose();
    }
}

public static class InspectionSessionExtensions
{
    public static async Task<InspectionSession> InspectAsync(this CliContext context, ParseResult parse, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var loggerFactory = context.CreateLoggerFactory(parse);
        try
        {
            return new InspectionSession(await context.OpenExistingDatabaseAsync(parse, loggerFactory, cancellationToken), loggerFactory);
        }
        catch
        {
            loggerFactory.Dispose();
            throw;
        }
    }
}
