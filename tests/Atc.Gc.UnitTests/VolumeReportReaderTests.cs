using System.Text;
using System.Text.Json;
using Atc.Gc.Workers;

namespace Atc.Gc.UnitTests;

/// <summary>A volume report read as a stream gives what deserializing it whole gives, however the bytes arrive.</summary>
public sealed class VolumeReportReaderTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(65536)]
    public async Task A_report_read_in_pieces_gives_every_row_and_the_listing_time(int piece)
    {
        var listedAfter = new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
        var report = new VolumeReportRequest(
            [.. Enumerable.Range(0, 5000).Select(i => new ReportedVolumeDto($"vol-{i:D6}", i / 10.0, i % 3 == 0 ? null : i * 4096L))],
            listedAfter,
            ["gone-1", "gone-2"]);
        var body = JsonSerializer.SerializeToUtf8Bytes(report, VolumeProtocol.Json);
        var sink = new Rows();

        var read = await VolumeReportReader.ReadAsync(new Trickle(body, piece), sink, default);

        Assert.Equal(listedAfter, read);
        Assert.Equal(report.Volumes.Select(v => (v.Handle, v.AgeSeconds, v.SizeBytes)), sink.Reported);
        Assert.Equal(["gone-1", "gone-2"], sink.Deleting);
    }

    [Fact]
    public async Task Names_in_any_case_numbers_as_strings_and_unknown_properties_are_read_as_the_serializer_reads_them()
    {
        const string Body = """
            {"extra": {"nested": [1, {"deep": true}]}, "VOLUMES": [{"Handle": "a", "ageSeconds": "12.5", "other": [1], "sizeBytes": 10}],
             "listedafter": null, "deleting": null}
            """;
        var sink = new Rows();

        var read = await VolumeReportReader.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(Body)), sink, default);

        Assert.Null(read);
        Assert.Equal([("a", 12.5, (long?)10)], sink.Reported);
    }

    [Theory]
    [InlineData("", "not valid JSON")]
    [InlineData("null", "empty or null")]
    [InlineData("[1,2]", "not valid JSON")]
    [InlineData("{\"volumes\": [", "not valid JSON")]
    [InlineData("{\"volumes\": 7}", "not valid JSON")]
    [InlineData("{\"volumes\": [{\"handle\": \"../x\"}]}", "'../x' is not a valid handle")]
    [InlineData("{\"volumes\": [{\"ageSeconds\": 1}]}", "'' is not a valid handle")]
    [InlineData("{\"deleting\": [\"a/b\"]}", "'a/b' is not a valid handle")]
    [InlineData("{\"volumes\": [{\"handle\": \"a\", \"sizeBytes\": -1}]}", "not valid JSON")]
    [InlineData("{\"listedAfter\": \"yesterday\"}", "not valid JSON")]
    [InlineData("{} {}", "not valid JSON")]
    public async Task A_body_that_is_not_a_report_is_refused_saying_what_is_wrong(string body, string detail)
    {
        var error = await Assert.ThrowsAsync<VolumeReportFormatException>(() =>
            VolumeReportReader.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(body)), new Rows(), default));

        Assert.Contains(detail, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_value_longer_than_any_report_needs_is_refused_without_reading_it_whole()
    {
        var body = Encoding.UTF8.GetBytes($"{{\"volumes\": [{{\"handle\": \"{new string('a', 1024 * 1024)}\"}}]}}");

        var error = await Assert.ThrowsAsync<VolumeReportFormatException>(() => VolumeReportReader.ReadAsync(new MemoryStream(body), new Rows(), default));

        Assert.Contains("longer than", error.Message, StringComparison.Ordinal);
    }

    private sealed class Rows : IVolumeReportSink
    {
        public List<(string Handle, double Age, long? Size)> Reported { get; } = [];

        public List<string> Deleting { get; } = [];

        public ValueTask ReportedAsync(string handle, double ageSeconds, long? sizeBytes, CancellationToken cancellationToken)
        {
            Reported.Add((handle, ageSeconds, sizeBytes));
            return ValueTask.CompletedTask;
        }

        public ValueTask DeletingAsync(string handle, CancellationToken cancellationToken)
        {
            Deleting.Add(handle);
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>A stream that gives at most <c>piece</c> bytes per read, as a slow network would.</summary>
    private sealed class Trickle(byte[] data, int piece) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, piece)], cancellationToken);
    }
}
