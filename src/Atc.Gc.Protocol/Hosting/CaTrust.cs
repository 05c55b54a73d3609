using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Atc.Gc.Hosting;

/// <summary>
/// Trust in one certificate authority, given as a PEM file, for a client calling the other side of
/// the worker channel over HTTPS: a server certificate is accepted when it names the host called and
/// chains to that authority — and to nothing else, the system's store included.
/// </summary>
public static class CaTrust
{
    /// <summary>The certificates in the PEM file <paramref name="path"/>; at least one, else <see cref="InvalidOperationException"/>.</summary>
    public static X509Certificate2Collection Load(string path)
    {
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new InvalidOperationException($"the certificate authority file '{path}' cannot be read: {ex.Message}", ex);
        }

        return roots.Count > 0 ? roots : throw new InvalidOperationException($"the certificate authority file '{path}' holds no PEM certificate");
    }

    /// <summary>Client TLS options that accept only certificates for the host called, issued under <paramref name="roots"/>.</summary>
    public static SslClientAuthenticationOptions ClientOptions(X509Certificate2Collection roots)
    {
        ArgumentNullException.ThrowIfNull(roots);
        return new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, certificate, _, errors) => Accepts(roots, certificate, errors),
        };
    }

    private static bool Accepts(X509Certificate2Collection roots, X509Certificate? certificate, SslPolicyErrors errors)
    {
        // The name and the presence of a certificate are checked by TLS; the chain is judged here, against the authority alone.
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (certificate is X509Certificate2 typed)
        {
            return chain.Build(typed);
        }

        using var copy = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(copy);
    }
}
