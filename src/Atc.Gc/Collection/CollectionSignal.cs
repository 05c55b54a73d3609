using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Atc.Gc.Collection;

/// <summary>
/// The dirty flag (after containerd's metadata GC): anything that may free a volume — a deleted
/// owner, a finished build, a removed job — makes the database NOTIFY <see cref="Channel"/> (the
/// triggers are part of the schema). The signal folds any number of notifications into one
/// pending request, so a burst of changes causes one pass, not one per change.
/// </summary>
public sealed class CollectionSignal(ILogger<CollectionSignal> logger, TimeProvider time)
{
    /// <summary>The PostgreSQL notification channel the schema's triggers notify.</summary>
    public const string Channel = "atc_gc_collect";

    private readonly Channel<string> pending = System.Threading.Channels.Channel.CreateBounded<string>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private long latest;

    /// <summary>
    /// Asks for a pass as soon as possible; requests made before it starts are folded into it. The pass
    /// carries the time of the latest request it folded: only work started after that answers all of them.
    /// </summary>
    public void Request(string reason)
    {
        Interlocked.Exchange(ref latest, time.GetTimestamp());
        pending.Writer.TryWrite(reason);
    }

    /// <summary>
    /// Waits until a pass is requested or <paramref name="interval"/> passes; after a request, waits
    /// <paramref name="debounce"/> more so that related changes land in the same pass. Returns why.
    /// </summary>
    public async Task<PassCause> WaitAsync(TimeSpan interval, TimeSpan debounce, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(interval);
        try
        {
            var reason = await pending.Reader.ReadAsync(timeout.Token);
            if (debounce > TimeSpan.Zero)
            {
                await Task.Delay(debounce, cancellationToken);
            }

            pending.Reader.TryRead(out _);
            return new PassCause(reason, PassTrigger.Signal, Interlocked.Read(ref latest));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new PassCause("interval", PassTrigger.Interval, time.GetTimestamp());
        }
    }

    /// <summary>Listens for the database's notifications until cancelled, reconnecting with backoff when the connection drops.</summary>
    public async Task ListenAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        var backoff = TimeSpan.FromSeconds(1);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
                connection.Notification += (_, e) => Request(e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(cancellationToken);
                }

                logger.LogDebug("Listening for collection signals on {Channel}", Channel);
                backoff = TimeSpan.FromSeconds(1);
                Request("listening");
                while (true)
                {
                    await connection.WaitAsync(cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning("Listening for collection signals failed ({Message}); retrying in {Backoff}", ex.Message, backoff);
                await Task.Delay(backoff, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }
}

/// <summary>Why a pass runs: a change signal (with when it arrived) or the interval.</summary>
public sealed record PassCause(string Reason, PassTrigger Trigger, long At);
