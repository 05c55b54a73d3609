using System.Security.Cryptography;
using System.Text;

namespace Atc.Gc.Workers;

/// <summary>
/// Per-worker tokens derived from one orchestrator secret: HMAC-SHA256(secret, worker name). The
/// orchestrator needs only the secret to call any agent and to check any agent's calls; a token is
/// good for one worker name, so a worker cannot act for another; nothing secret is stored in the
/// database. <c>atc-gc worker-token &lt;name&gt;</c> prints the token to give a worker.
/// </summary>
public static class WorkerTokens
{
    /// <summary>The shortest secret accepted (bytes of UTF-8).</summary>
    public const int MinimumSecretLength = 16;

    public static string Derive(string secret, string workerName)
    {
        RequireSecret(secret);
        ArgumentException.ThrowIfNullOrEmpty(workerName);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes("atc-gc worker " + workerName));
        return Convert.ToBase64String(mac).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>Constant-time check that <paramref name="token"/> is the token of <paramref name="workerName"/>.</summary>
    public static bool Verify(string secret, string workerName, string? token) =>
        token is not null
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(Derive(secret, workerName)), Encoding.UTF8.GetBytes(token));

    /// <summary>A new random secret, for set-up and the demo.</summary>
    public static string NewSecret() => Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();

    public static void RequireSecret(string? secret)
    {
        if (secret is null || Encoding.UTF8.GetByteCount(secret) < MinimumSecretLength)
        {
            throw new ArgumentException($"the worker token secret must be at least {MinimumSecretLength} bytes", nameof(secret));
        }
    }
}
