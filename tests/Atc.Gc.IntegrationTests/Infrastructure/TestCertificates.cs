using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Atc.Gc.IntegrationTests.Infrastructure;

/// <summary>
/// A certificate authority made for one test, and a server certificate it issued for 127.0.0.1 and
/// localhost: the authority as a PEM file (what <c>Workers:CaFile</c> and <c>Agent:OrchestratorCaFile</c>
/// take), the server's as a password-protected PFX (what <c>Kestrel:Certificates:Default</c> takes).
/// Files in a private temporary directory, removed on dispose.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    public const string Password = "test-pfx-password";

    private TestCertificates(string directory)
    {
        Directory = directory;
        CaFile = Path.Combine(directory, "ca.pem");
        ServerPfx = Path.Combine(directory, "server.pfx");
        OtherCaFile = Path.Combine(directory, "other-ca.pem");
    }

    public string Directory { get; }

    public string CaFile { get; }

    /// <summary>An authority that issued nothing here: trusting it alone must fail.</summary>
    public string OtherCaFile { get; }

    public string ServerPfx { get; }

    /// <summary>The settings that make a host serve HTTPS with the server certificate.</summary>
    public IDictionary<string, string?> KestrelSettings => new Dictionary<string, string?>
    {
        ["Kestrel:Certificates:Default:Path"] = ServerPfx,
        ["Kestrel:Certificates:Default:Password"] = Password,
    };

    public static TestCertificates Create()
    {
        var made = new TestCertificates(System.IO.Directory.CreateTempSubdirectory("atc-gc-tls-").FullName);
        using var ca = Authority("atc-gc test CA");
        using var other = Authority("atc-gc other CA");
        File.WriteAllText(made.CaFile, ca.ExportCertificatePem());
        File.WriteAllText(made.OtherCaFile, other.ExportCertificatePem());

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), serial);
        using var withKey = issued.CopyWithPrivateKey(key);
        File.WriteAllBytes(made.ServerPfx, withKey.Export(X509ContentType.Pfx, Password));
        return made;
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);

    private static X509Certificate2 Authority(string name)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256); // owned by the certificate made from it
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }
}
