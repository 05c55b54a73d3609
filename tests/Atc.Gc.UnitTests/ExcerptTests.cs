using Atc.Gc.Model;

namespace Atc.Gc.UnitTests;

public sealed class ExcerptTests
{
    [Fact]
    public void Control_and_format_characters_become_single_spaces()
    {
        Assert.Equal("disk on fire [31m x", Excerpt.Of("disk\0on\r\nfire\t\u001b[31m\u202e\u2028x"));
    }

    [Fact]
    public void Long_text_is_cut_at_the_bound_with_an_ellipsis()
    {
        var excerpt = Excerpt.Of(new string('a', 10_000), 300);

        Assert.Equal(300, excerpt.Length);
        Assert.EndsWith("…", excerpt, StringComparison.Ordinal);
    }

    [Fact]
    public void A_surrogate_pair_is_kept_whole_and_a_lone_surrogate_dropped()
    {
        Assert.Equal("a 😀 b", Excerpt.Of("a\ud800😀\udc00b"));
        Assert.Equal("😀…", Excerpt.Of("😀😀😀", 4));
    }

    [Theory]
    [InlineData(null, "")]
    [InlineData("", "")]
    [InlineData("  \n  ", "")]
    public void Empty_or_blank_text_is_an_empty_excerpt(string? text, string expected) => Assert.Equal(expected, Excerpt.Of(text));
}
