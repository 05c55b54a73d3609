using System.Net;
using System.Net.Sockets;

namespace Atc.Gc.Embedded;

/// <summary>A port number for the embedded server: it names the server's socket file, and no one else holds it now.</summary>
internal static class EphemeralPort
{
    /// <summary>The port the system gives a loopback socket bound to port 0.</summary>
    public static int Next()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
