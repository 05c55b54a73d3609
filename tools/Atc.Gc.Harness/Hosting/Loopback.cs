using System.Net;
using System.Net.Sockets;

namespace Atc.Gc.Hosting;

/// <summary>Servers on this machine's loopback interface: a free port to give one, and waiting until one answers.</summary>
public static class Loopback
{
    /// <summary>A port no one listens on right now (the system's choice of an ephemeral port).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Whether the server behind <paramref name="client"/> answers <c>GET health</c> with a success status; false when it cannot be reached or does not answer within the client's timeout.</summary>
    public static async Task<bool> IsHealthyAsync(HttpClient client, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        try
        {
            using var response = await client.GetAsync("health", cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Polls <see cref="IsHealthyAsync"/> until it succeeds; fails at once when <paramref name="exited"/> says the server's process is gone, and after <paramref name="timeout"/>.</summary>
    /// <param name="what">The server, as the error messages name it.</param>
    public static async Task WaitHealthyAsync(HttpClient client, string what, Func<bool> exited, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(exited);
        var deadline = DateTime.UtcNow + timeout;
        while (!await IsHealthyAsync(client, cancellationToken))
        {
            if (exited())
            {
                throw new InvalidOperationException($"{what} exited before it answered its health check");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{what} did not answer its health check within {timeout.TotalSeconds:F0}s");
            }

            await Task.Delay(100, cancellationToken);
        }
    }
}
