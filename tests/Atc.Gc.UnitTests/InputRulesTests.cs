using Atc.Gc.Model;

namespace Atc.Gc.UnitTests;

public sealed class InputRulesTests
{
    [Theory]
    [InlineData("0195d0b4-7c1e-7c1e-8a4b-8a4b8a4b8a4b")]
    [InlineData("a")]
    [InlineData("cache.v2_final-1")]
    public void Handles_of_letters_digits_dots_dashes_and_underscores_are_valid(string handle) =>
        Assert.True(HandleFormat.IsValid(handle));

    [Theory]
    [InlineData("")]
    [InlineData("..")]
    [InlineData("../etc/passwd")]
    [InlineData("a/b")]
    [InlineData(".hidden")]
    [InlineData("with space")]
    [InlineData("naïve")]
    public void Handles_that_could_escape_a_directory_or_are_empty_are_invalid(string handle) =>
        Assert.False(HandleFormat.IsValid(handle));

    [Fact]
    public void Handles_longer_than_the_limit_are_invalid()
    {
        Assert.True(HandleFormat.IsValid(new string('a', HandleFormat.MaxLength)));
        Assert.False(HandleFormat.IsValid(new string('a', HandleFormat.MaxLength + 1)));
    }

    [Fact]
    public void New_handles_are_valid_and_distinct()
    {
        var handles = Enumerable.Range(0, 100).Select(_ => HandleFormat.New()).ToList();

        Assert.All(handles, h => Assert.True(HandleFormat.IsValid(h)));
        Assert.Equal(100, handles.Distinct().Count());
    }

    [Fact]
    public void An_invalid_handle_is_explained()
    {
        var ex = Assert.Throws<ArgumentException>(() => HandleFormat.Validate("../x"));

        Assert.Contains("not a valid handle", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("worker-1", true)]
    [InlineData("w.example.com", true)]
    [InlineData("-leading-dash", false)]
    [InlineData("", false)]
    [InlineData("a/b", false)]
    public void Worker_names_follow_the_schema_rule(string name, bool valid) => Assert.Equal(valid, WorkerNames.IsValid(name));

    [Theory]
    [InlineData("x\n")]
    [InlineData("x\r\n")]
    [InlineData("\nx")]
    [InlineData("x\0")]
    public void A_line_break_or_U0000_at_either_end_makes_a_handle_and_a_worker_name_invalid(string text)
    {
        Assert.False(HandleFormat.IsValid(text));
        Assert.False(WorkerNames.IsValid(text));
    }
}
