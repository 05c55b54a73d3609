using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Atc.Gc.Model;

namespace Atc.Gc.Workers;

/// <summary>Where the rows of a report read as a stream go, one at a time.</summary>
public interface IVolumeReportSink
{
    /// <summary>A volume the worker holds.</summary>
    ValueTask ReportedAsync(string handle, double ageSeconds, long? sizeBytes, CancellationToken cancellationToken);

    /// <summary>A handle whose data the worker is still removing.</summary>
    ValueTask DeletingAsync(string handle, CancellationToken cancellationToken);
}

/// <summary>A report body that is not a report: not JSON, the wrong shape, or a handle that is not valid. The message says which, as an answer's detail.</summary>
/// <param name="isInvalidHandle">True when what is wrong is a handle (a null one included).</param>
/// <param name="invalidHandle">The offending handle, when there is one.</param>
public sealed class VolumeReportFormatException(string message, bool isInvalidHandle = false, string? invalidHandle = null) : Exception(message)
{
    public bool IsInvalidHandle { get; } = isInvalidHandle;

    public string? InvalidHandle { get; } = invalidHandle;
}

/// <summary>
/// Reads a <see cref="VolumeReportRequest"/> body as a stream (<see cref="Utf8JsonReader"/> over a small
/// buffer), handing every volume and deleting handle to a sink as it is read, so a report of a million
/// volumes is never held in memory. Reads what <see cref="VolumeProtocol.Json"/> would: property names in
/// any case, numbers also as strings, unknown properties ignored. Returns <c>listedAfter</c>.
/// </summary>
public static class VolumeReportReader
{
    /// <summary>The longest single JSON token accepted (a handle is at most 128 characters).</summary>
    public const int MaxTokenBytes = 64 * 1024;

    private const int InitialBuffer = 16 * 1024;

    public static async Task<DateTimeOffset?> ReadAsync(Stream body, IVolumeReportSink sink, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(sink);
        var parser = new Parser();
        var buffer = ArrayPool<byte>.Shared.Rent(InitialBuffer);
        var state = new JsonReaderState(new JsonReaderOptions { MaxDepth = 64 });
        var filled = 0;
        try
        {
            var final = false;
            while (!final)
            {
                if (filled == buffer.Length)
                {
                    if (buffer.Length >= MaxTokenBytes)
                    {
                        throw new VolumeReportFormatException($"the request body is not valid JSON for this request: a JSON value is longer than {MaxTokenBytes} bytes");
                    }

                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    Buffer.BlockCopy(buffer, 0, larger, 0, filled);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await body.ReadAsync(buffer.AsMemory(filled), cancellationToken);
                final = read == 0;
                filled += read;
                var consumed = parser.Parse(buffer.AsSpan(0, filled), final, ref state);
                await parser.FlushAsync(sink, cancellationToken);
                Buffer.BlockCopy(buffer, consumed, buffer, 0, filled - consumed);
                filled -= consumed;
            }

            return parser.ListedAfter;
        }
        catch (JsonException ex)
        {
            throw new VolumeReportFormatException($"the request body is not valid JSON for this request: {ex.Message}");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The report's grammar as a state machine over tokens, resumable between buffers.</summary>
    private sealed class Parser
    {
        private readonly List<(string Handle, double Age, long? Size, bool Deleting)> pending = [];
        private bool started;
        private int skipUntilDepth = -1;
        private string rootProperty = string.Empty;
        private Section section;
        private string volumeProperty = string.Empty;
        private string? handle;
        private double age;
        private long? size;

        private enum Section
        {
            None,
            Volumes,
            Deleting,
        }

        public DateTimeOffset? ListedAfter { get; private set; }

        public int Parse(ReadOnlySpan<byte> data, bool final, ref JsonReaderState state)
        {
            var reader = new Utf8JsonReader(data, final, state);
            while (reader.Read())
            {
                Token(ref reader);
            }

            state = reader.CurrentState;
            return (int)reader.BytesConsumed;
        }

        public async ValueTask FlushAsync(IVolumeReportSink sink, CancellationToken cancellationToken)
        {
            foreach (var (rowHandle, rowAge, rowSize, deleting) in pending)
            {
                if (deleting)
                {
                    await sink.DeletingAsync(rowHandle, cancellationToken);
                }
                else
                {
                    await sink.ReportedAsync(rowHandle, rowAge, rowSize, cancellationToken);
                }
            }

            pending.Clear();
        }

        private void Token(ref Utf8JsonReader reader)
        {
            var token = reader.TokenType;
            var depth = reader.CurrentDepth;
            if (skipUntilDepth >= 0)
            {
                if (token is JsonTokenType.EndObject or JsonTokenType.EndArray && depth == skipUntilDepth)
                {
                    skipUntilDepth = -1;
                }

                return;
            }

            if (!started)
            {
                if (token == JsonTokenType.Null)
                {
                    throw new VolumeReportFormatException("the request body is empty or null; a JSON object is required");
                }

                if (token != JsonTokenType.StartObject)
                {
                    throw new JsonException($"a report is a JSON object, not {token}");
                }

                started = true;
                return;
            }

            switch (depth)
            {
                case 0:
                    return;
                case 1:
                    Root(ref reader, token);
                    return;
                case 2:
                    Element(ref reader, token);
                    return;
                case 3:
                    VolumeField(ref reader, token);
                    return;
                default:
                    throw new JsonException($"unexpected {token} at depth {depth}");
            }
        }

        private void Root(ref Utf8JsonReader reader, JsonTokenType token)
        {
            if (token == JsonTokenType.PropertyName)
            {
                rootProperty = Name(ref reader, "volumes", "listedAfter", "deleting");
                return;
            }

            if (token == JsonTokenType.EndArray)
            {
                section = Section.None;
                return;
            }

            switch (rootProperty)
            {
                case "volumes" or "deleting" when token == JsonTokenType.Null:
                    return;
                case "volumes" when token == JsonTokenType.StartArray:
                    section = Section.Volumes;
                    return;
                case "deleting" when token == JsonTokenType.StartArray:
                    section = Section.Deleting;
                    return;
                case "volumes" or "deleting":
                    throw new JsonException($"'{rootProperty}' must be an array, not {token}");
                case "listedAfter" when token == JsonTokenType.Null:
                    ListedAfter = null;
                    return;
                case "listedAfter" when token == JsonTokenType.String && reader.TryGetDateTimeOffset(out var listed):
                    ListedAfter = listed;
                    return;
                case "listedAfter":
                    throw new JsonException("'listedAfter' must be a date and time (ISO 8601) or null");
                default:
                    if (token is JsonTokenType.StartObject or JsonTokenType.StartArray)
                    {
                        skipUntilDepth = reader.CurrentDepth;
                    }

                    return;
            }
        }

        private void Element(ref Utf8JsonReader reader, JsonTokenType token)
        {
            switch (section)
            {
                case Section.Volumes when token == JsonTokenType.StartObject:
                    handle = null;
                    age = 0;
                    size = null;
                    return;
                case Section.Volumes when token == JsonTokenType.EndObject:
                    pending.Add((Valid(handle), age, size, false));
                    return;
                case Section.Volumes when token == JsonTokenType.Null:
                    throw new VolumeReportFormatException("a volume is null", isInvalidHandle: true);
                case Section.Deleting when token == JsonTokenType.String:
                    pending.Add((Valid(reader.GetString()), 0, null, true));
                    return;
                case Section.Deleting when token == JsonTokenType.Null:
                    throw new VolumeReportFormatException("a deleting handle is null", isInvalidHandle: true);
                default:
                    throw new JsonException($"unexpected {token} in '{rootProperty}'");
            }
        }

        private void VolumeField(ref Utf8JsonReader reader, JsonTokenType token)
        {
            if (token == JsonTokenType.PropertyName)
            {
                volumeProperty = Name(ref reader, "handle", "ageSeconds", "sizeBytes");
                return;
            }

            switch (volumeProperty)
            {
                case "handle" when token is JsonTokenType.String or JsonTokenType.Null:
                    handle = reader.GetString();
                    return;
                case "ageSeconds" when Number(ref reader, token) is { } seconds:
                    age = seconds;
                    return;
                case "sizeBytes" when token == JsonTokenType.Null:
                    size = null;
                    return;
                case "sizeBytes" when Number(ref reader, token) is { } bytes && bytes >= 0 && bytes <= long.MaxValue && bytes == Math.Floor(bytes):
                    size = token == JsonTokenType.Number && reader.TryGetInt64(out var exact) ? exact : (long)bytes;
                    return;
                case "handle" or "ageSeconds" or "sizeBytes":
                    throw new JsonException($"'{volumeProperty}' has the wrong type or value ({token})");
                default:
                    if (token is JsonTokenType.StartObject or JsonTokenType.StartArray)
                    {
                        skipUntilDepth = reader.CurrentDepth;
                    }

                    return;
            }
        }

        private static double? Number(ref Utf8JsonReader reader, JsonTokenType token) => token switch
        {
            JsonTokenType.Number when reader.TryGetDouble(out var value) => value,
            JsonTokenType.String when double.TryParse(reader.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) => value,
            _ => null,
        };

        /// <summary>The property's name as one of <paramref name="known"/> (in any case), or empty for another.</summary>
        private static string Name(ref Utf8JsonReader reader, params string[] known)
        {
            foreach (var name in known)
            {
                if (reader.ValueTextEquals(name))
                {
                    return name;
                }
            }

            var text = reader.GetString();
            return known.FirstOrDefault(n => string.Equals(n, text, StringComparison.OrdinalIgnoreCase)) ?? string.Empty;
        }

        private static string Valid(string? candidate) =>
            HandleFormat.IsValid(candidate)
                ? candidate!
                : throw new VolumeReportFormatException($"'{candidate}' is not a valid handle", isInvalidHandle: true, invalidHandle: candidate);
    }
}
