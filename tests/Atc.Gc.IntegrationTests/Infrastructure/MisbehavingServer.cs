using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Atc.Gc.IntegrationTests.Infrastructure;

/// <summary>
/// A TCP server on loopback that answers every request badly: <see cref="Misbehaviour.ResetMidAnswer"/>
/// sends the start of an HTTP answer (status, headers, one byte of a promised body) and resets the
/// connection — what a load balancer in front of a dying server can do; <see cref="Misbehaviour.UnknownCharset"/>
/// answers 200 with a complete body in a character set no client knows.
/// </summary>
public sealed class MisbehavingServer(MisbehavingServer.Misbehaviour misbehaviour = MisbehavingServer.Misbehaviour.ResetMidAnswer) : IAsyncDisposable
{
    public enum Misbehaviour
    {
        ResetMidAnswer,
        UnknownCharset,
    }

    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource stop = new();
    private Task? accepting;
    private int connections;

    public Uri BaseUrl => new($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/");

    public MisbehavingServer Start()
    {
        listener.Start();
        accepting = AcceptAsync();
        return this;
    }

    public int Connections => Volatile.Read(ref connections);

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        if (accepting is not null)
        {
            await accepting.ContinueWith(_ => { }, TaskScheduler.Default);
        }

        stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            using var client = await listener.AcceptTcpClientAsync(stop.Token);
            Interlocked.Increment(ref connections);
            try
            {
                var buffer = new byte[8192];
                _ = await client.GetStream().ReadAsync(buffer, stop.Token);
                var answer = misbehaviour == Misbehaviour.ResetMidAnswer
                    ? "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
                    : "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=klingon\r\nContent-Length: 2\r\n\r\n{}";
                await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes(answer), stop.Token);
                await client.GetStream().FlushAsync(stop.Token);
            }
            catch (IOException)
            {
            }

            client.Client.LingerState = new LingerOption(true, 0); // close with RST
        }
    }
}
