using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Atc.Gc.Workers;

/// <summary>
/// Per-worker tokens derived from one orchestrator secret: HMAC-SHA256(secret, worker name and the
/// name's token generation). The orchestrator needs only the secret and the generation
/// (<c>WorkerCredentials</c>, in the database) to call any agent and to check any agent's
/// calls; a token is good for one worker name and one generation, so a worker cannot act for another,
/// and bumping the generation (pruning the worker, completing its retirement, or
/// <c>atc-gc worker-token NAME --rotate</c>) revokes the old token without changing the secret for
/// anyone else. Generation 0 — a name never revoked — derives the same token as before generations
/// existed. Nothing secret is stored in the database.
/// </summary>
public static class WorkerTokens
{
    /// <summary>The shortest secret accepted (bytes of UTF-8).</summary>
    public const int MinimumSecretLength = 16;

    public static string Derive(string secret, string workerName, long generation)
    {
        RequireSecret(secret);
        ArgumentException.ThrowIfNullOrEmpty(workerName);
        ArgumentOutOfRangeException.ThrowIfNegative(generation);

        // A worker name has no spaces, so "<name> generation <n>" can never be another name's message.
        var message = generation == 0
            ? "atc-gc worker " + workerName
            : "atc-gc worker " + workerName + " generation " + generation.ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(message));
        return Convert.ToBase64String(mac).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>
    /// Constant-time check that <paramref name="token"/> is the token of <paramref name="workerName"/>
    /// at <paramref name="generation"/> (its current generation: an older one's token is revoked).
    /// </summary>
    public static bool Verify(string secret, string workerName, long generation, string? token) =>
        token is not null
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(Derive(secret, workerName, generation)), Encoding.UTF8.GetBytes(token));

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
