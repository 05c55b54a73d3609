using System.Security.Cryptography;
using System.Text;
using Atc.Gc.Workers;

namespace Atc.Gc.UnitTests;

public sealed class WorkerTokensTests
{
    private const string Secret = "0123456789abcdef-secret";

    [Fact]
    public void A_token_is_stable_for_a_worker_and_differs_between_workers()
    {
        Assert.Equal(WorkerTokens.Derive(Secret, "w1", 0), WorkerTokens.Derive(Secret, "w1", 0));
        Assert.NotEqual(WorkerTokens.Derive(Secret, "w1", 0), WorkerTokens.Derive(Secret, "w2", 0));
        Assert.NotEqual(WorkerTokens.Derive(Secret, "w1", 0), WorkerTokens.Derive(Secret + "x", "w1", 0));
    }

    [Fact]
    public void Each_generation_has_its_own_token()
    {
        var tokens = Enumerable.Range(0, 5).Select(g => WorkerTokens.Derive(Secret, "w1", g)).ToList();

        Assert.Equal(5, tokens.Distinct(StringComparer.Ordinal).Count());
        Assert.False(WorkerTokens.Verify(Secret, "w1", 1, tokens[0]), "a revoked generation's token verified");
        Assert.True(WorkerTokens.Verify(Secret, "w1", 1, tokens[1]));
    }

    [Fact]
    public void Generation_zero_is_the_token_handed_out_before_generations_existed()
    {
        var before = Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes("atc-gc worker w1")))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

        Assert.Equal(before, WorkerTokens.Derive(Secret, "w1", 0));
    }

    [Fact]
    public void A_token_verifies_only_for_its_own_worker()
    {
        var token = WorkerTokens.Derive(Secret, "w1", 0);

        Assert.True(WorkerTokens.Verify(Secret, "w1", 0, token));
        Assert.False(WorkerTokens.Verify(Secret, "w2", 0, token));
        Assert.False(WorkerTokens.Verify(Secret, "w1", 0, token[..^1]));
        Assert.False(WorkerTokens.Verify(Secret, "w1", 0, null));
    }

    [Fact]
    public void Tokens_are_url_safe()
    {
        var token = WorkerTokens.Derive(Secret, "worker-with-a-long-name.example", 7);

        Assert.Matches("^[A-Za-z0-9_-]+$", token);
    }

    [Fact]
    public void A_short_secret_or_a_negative_generation_is_refused()
    {
        Assert.Throws<ArgumentException>(() => WorkerTokens.Derive("short", "w1", 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => WorkerTokens.Derive(Secret, "w1", -1));
    }

    [Fact]
    public void New_secrets_are_long_enough_and_random() =>
        Assert.NotEqual(WorkerTokens.NewSecret(), WorkerTokens.NewSecret());
}
