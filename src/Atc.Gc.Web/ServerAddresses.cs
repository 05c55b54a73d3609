using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Atc.Gc.Web;

public static class ServerAddresses
{
    /// <summary>The first address the server listens on once started (with the real port when asked for port 0), ending in '/'.</summary>
    public static Uri First(IServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        var uri = address is null ? null : new Uri(address.TrimEnd('/') + "/");
        return uri is { Port: > 0 } ? uri : throw new InvalidOperationException("the server is not listening yet");
    }
}
