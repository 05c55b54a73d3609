using System.Collections.Concurrent;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Atc.Gc.Workers;

/// <summary>
/// Where the collector may send a worker's requests (the worker's token, DELETEs): the same rule at
/// registration (a refused address is a 400) and at every connection the worker client opens (after
/// its own DNS lookup, so a name that later resolves elsewhere — DNS rebinding — gains nothing).
/// <list type="bullet">
/// <item>Never: link-local (169.254.0.0/16, where cloud metadata services answer, and fe80::/10),
/// unspecified, multicast and broadcast addresses.</item>
/// <item>Never: a denied endpoint — the orchestrator's own listeners, the database's host and port,
/// and <see cref="WorkerClientOptions.DeniedEndpoints"/>. A denied endpoint on loopback or on an
/// "any" address denies that port on every loopback and local address.</item>
/// <item>When <see cref="WorkerClientOptions.AllowedNetworks"/> lists networks, only addresses in
/// them; otherwise any other address, loopback included (one host, the demo, tests).</item>
/// </list>
/// </summary>
public sealed class WorkerNetworkPolicy
{
    private static readonly IPNetwork[] NeverAllowed =
    [
        IPNetwork.Parse("169.254.0.0/16"),
        IPNetwork.Parse("fe80::/10"),
        IPNetwork.Parse("0.0.0.0/8"),
        IPNetwork.Parse("224.0.0.0/4"),
        IPNetwork.Parse("255.255.255.255/32"),
        IPNetwork.Parse("::/128"),
        IPNetwork.Parse("ff00::/8"),
    ];

    private readonly IReadOnlyList<IPNetwork> allowed;
    private readonly ConcurrentDictionary<(string Host, int Port), byte> denied = new();
    private readonly Lazy<HashSet<IPAddress>> localAddresses = new(LocalAddresses);

    public WorkerNetworkPolicy(WorkerClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        allowed = [.. options.AllowedNetworks.Select(IPNetwork.Parse)];
        foreach (var endpoint in options.DeniedEndpoints)
        {
            var (host, port) = WorkerClientOptions.ParseEndpoint(endpoint)
                ?? throw new ArgumentException($"'{endpoint}' is not host:port", nameof(options));
            Deny(host, port);
        }
    }

    /// <summary>The endpoints denied besides the fixed rules, as host:port.</summary>
    public IReadOnlyCollection<string> DeniedEndpoints => [.. denied.Keys.Select(k => $"{k.Host}:{k.Port}").Order(StringComparer.Ordinal)];

    /// <summary>Denies <paramref name="host"/>:<paramref name="port"/> (an address, a name, or <c>*</c>/<c>+</c>/<c>0.0.0.0</c>/<c>::</c> for any local address).</summary>
    public void Deny(string host, int port)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        if (port is > 0 and <= 65535)
        {
            denied.TryAdd((host.Trim('[', ']').ToLowerInvariant(), port), 0);
        }
    }

    /// <summary>Denies the host and port of each listener address (<c>http://127.0.0.1:8080</c>, <c>https://*:8443</c>).</summary>
    public void DenyListeners(IEnumerable<string> addresses)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        foreach (var address in addresses)
        {
            var normalized = address.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);
            if (Uri.TryCreate(normalized, UriKind.Absolute, out var url))
            {
                Deny(url.Host, url.Port);
            }
        }
    }

    /// <summary>Why a worker whose base URL is <paramref name="url"/> may not be registered; null when it may (a name that does not resolve now is checked when connecting).</summary>
    public async Task<string?> RefusalAsync(Uri url, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(url.IdnHost, out var literal)
                ? [literal]
                : await Dns.GetHostAddressesAsync(url.IdnHost, cancellationToken);
        }
        catch (SocketException)
        {
            return null;
        }

        foreach (var address in addresses)
        {
            if (await RefusalAsync(address, url.Port, cancellationToken) is { } refusal)
            {
                return refusal;
            }
        }

        return null;
    }

    /// <summary>Why <paramref name="address"/>:<paramref name="port"/> may not be called; null when it may.</summary>
    public async Task<string?> RefusalAsync(IPAddress address, int port, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        var ip = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        foreach (var never in NeverAllowed)
        {
            if (never.Contains(ip))
            {
                return $"{ip} is in {never}, where no worker may be (link-local, unspecified, multicast or broadcast)";
            }
        }

        foreach (var (host, deniedPort) in denied.Keys)
        {
            if (deniedPort == port && await MatchesAsync(host, ip, cancellationToken))
            {
                return $"{Format(ip, port)} is denied to workers ({host}:{deniedPort}: the orchestrator itself, its database, or Workers:DeniedEndpoints)";
            }
        }

        return allowed.Count > 0 && !allowed.Any(n => n.Contains(ip))
            ? $"{ip} is not in Workers:AllowedNetworks ({string.Join(", ", allowed)})"
            : null;
    }

    /// <summary>
    /// The worker client's connection: resolves the host itself, drops every address the policy
    /// refuses, and connects to the first of the rest that answers; none left is an
    /// <see cref="HttpRequestException"/> that says why.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var host = context.DnsEndPoint.Host;
        var port = context.DnsEndPoint.Port;
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken);
        string? refusal = null;
        Exception? failure = null;
        foreach (var address in addresses)
        {
            if (await RefusalAsync(address, port, cancellationToken) is { } reason)
            {
                refusal ??= reason;
                continue;
            }

            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                failure = ex;
            }
        }

        throw failure is not null
            ? new HttpRequestException($"could not connect to {host}:{port}: {failure.Message}", failure)
            : new HttpRequestException($"not connecting to worker address {host}:{port}: {refusal ?? "the name resolved to no address"}");
    }

    private async Task<bool> MatchesAsync(string host, IPAddress ip, CancellationToken cancellationToken)
    {
        IPAddress[] targets;
        if (IPAddress.TryParse(host, out var literal))
        {
            targets = [literal];
        }
        else
        {
            try
            {
                targets = await Dns.GetHostAddressesAsync(host, cancellationToken);
            }
            catch (SocketException)
            {
                return false;
            }
        }

        foreach (var target in targets.Select(t => t.IsIPv4MappedToIPv6 ? t.MapToIPv4() : t))
        {
            var local = target.Equals(IPAddress.Any) || target.Equals(IPAddress.IPv6Any) || IPAddress.IsLoopback(target) || localAddresses.Value.Contains(target);
            if (target.Equals(ip) || (local && (IPAddress.IsLoopback(ip) || localAddresses.Value.Contains(ip))))
            {
                return true;
            }
        }

        return false;
    }

    private static string Format(IPAddress ip, int port) => ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{ip}]:{port}" : $"{ip}:{port}";

    private static HashSet<IPAddress> LocalAddresses()
    {
        try
        {
            return NetworkInterface.GetAllNetworkInterfaces()
                .SelectMany(i => i.GetIPProperties().UnicastAddresses)
                .Select(a => a.Address)
                .ToHashSet();
        }
        catch (NetworkInformationException)
        {
            return new HashSet<IPAddress>();
        }
    }
}
