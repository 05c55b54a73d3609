using Atc.Gc.Workers;

namespace Atc.Gc.UnitTests;

public sealed class WorkerTokensTests
{
    private const string Secret = "0123456789abcdef-secret";

    [Fact]
    public void A_token_is_stable_for_a_worker_and_differs_between_workers()
    {
        Assert.Equal(WorkerTokens.Derive(Secret, "w1"), WorkerTokens.Derive(Secret, "w1"));
        Assert.NotEqual(WorkerTokens.Derive(Secret, "w1"), WorkerTokens.Derive(Secret, "w2"));
        Assert.NotEqual(WorkerTokens.Derive(Secret, "w1"), WorkerTokens.Derive(Secret + "x", "w1"));
    }

    [Fact]
    public void A_token_verifies_only_for_its_own_worker()
    {
        var token = WorkerTokens.Derive(Secret, "w1");

        Assert.True(WorkerTokens.Verify(Secret, "w1", token));
        Assert.False(WorkerTokens.Verify(Secret, "w2", token));
        Assert.False(WorkerTokens.Verify(Secret, "w1", token[..^1]));
        Assert.False(WorkerTokens.Verify(Secret, "w1", null));
    }

    [Fact]
    public void Tokens_are_url_safe()
    {
        var token = WorkerTokens.Derive(Secret, "worker-with-a-long-name.example");

        Assert.Matches("^[A-Za-z0-9_-]+$", token);
    }

    [Fact]
    public void A_short_secret_is_refused() => Assert.Throws<ArgumentException>(() => WorkerTokens.Derive("short", "w1"));

    [Fact]
    public void New_secrets_are_long_enough_and_random() =>
        Assert.NotEqual(WorkerTokens.NewSecret(), WorkerTokens.NewSecret());
}
