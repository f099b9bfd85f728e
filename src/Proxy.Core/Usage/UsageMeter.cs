using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Proxy.Core.Usage;

/// <summary>
/// Passes the provider's answer through to the client untouched, and reads the token counts on the way: from the
/// final JSON, or from the SSE chunk that carries <c>usage</c>; and the answer's own <c>id</c> from its first bytes (the
/// JSON's first write, or the first SSE chunk). It never holds back or coalesces a write.
/// <para>
/// It is also the attempt's response body feature, set in place of the client's for the attempt and set back after.
/// Setting <see cref="HttpResponse.Body"/> instead would wrap it in a new StreamResponseBodyFeature and register an
/// OnCompleted callback, on every call.
/// </para>
/// </summary>
public sealed class UsageMeter(IHttpResponseBodyFeature client, HttpResponse response) : Stream, IHttpResponseBodyFeature
{
    /// <summary>A JSON answer's <c>usage</c> comes last: only this much of its end is kept, however long the answer.</summary>
    private const int TailBytes = 8 * 1024;
    private const int MaxLineBytes = 1024 * 1024;

    /// <summary>The answer's <c>id</c> is looked for in this much of its start only; a longer id is not kept.</summary>
    private const int IdWindowBytes = 4 * 1024;
    private const int MaxIdLength = 256;

    private readonly Stream _inner = client.Stream;
    private ArrayBufferWriter<byte>? _line;
    private PipeWriter? _writer;
    private byte[]? _tail;
    private int _tailLength;
    private bool? _isEventStream;

    // The usage read so far: Anthropic's stream gives input and cache tokens in one event and output in a later one.
    private int _input;
    private int _cacheWrite;
    private int _cacheRead;
    private bool _idLookedFor;

    /// <summary>A translator reported the provider's own usage: the translated answer's usage (without the cache split) is not read again.</summary>
    private bool _reported;

    /// <summary>Decided at the first byte, when the provider's headers are known.</summary>
    private bool IsEventStream => _isEventStream ??= response.ContentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true;

    private Stream? _translator;

    /// <summary>Where the answer is written: a translator in front of the meter (which writes OpenAI's shape into it), or the meter.</summary>
    private Stream Front => _translator ?? this;

    Stream IHttpResponseBodyFeature.Stream => Front;

    PipeWriter IHttpResponseBodyFeature.Writer => _writer ??= PipeWriter.Create(Front, new StreamPipeWriterOptions(leaveOpen: true));

    void IHttpResponseBodyFeature.DisableBuffering() => client.DisableBuffering();

    Task IHttpResponseBodyFeature.StartAsync(CancellationToken cancellationToken) => client.StartAsync(cancellationToken);

    Task IHttpResponseBodyFeature.SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken) =>
        SendFileFallback.SendFileAsync(Front, path, offset, count, cancellationToken);

    /// <summary>Flushes what was written through <see cref="IHttpResponseBodyFeature.Writer"/>; the client's response is completed by its own feature.</summary>
    Task IHttpResponseBodyFeature.CompleteAsync() => CompleteWriterAsync();

    private Task CompleteWriterAsync() => _writer is null ? Task.CompletedTask : _writer.CompleteAsync().AsTask();

    /// <summary>
    /// Makes the meter the response body of <paramref name="features"/> until <see cref="DetachAsync"/>, with the
    /// dialect's <paramref name="translator"/> (if any) in front of it.
    /// </summary>
    public void Attach(IFeatureCollection features, Stream? translator)
    {
        _translator = translator;
        features.Set<IHttpResponseBodyFeature>(this);
    }

    /// <summary>What was written through the pipe writer goes out, and the client's own body feature is set back.</summary>
    public async ValueTask DetachAsync(IFeatureCollection features)
    {
        await CompleteWriterAsync();
        features.Set(client);
    }

    /// <summary>All of the input, Anthropic's cache tokens included.</summary>
    public int PromptTokens { get; private set; }
    public int CompletionTokens { get; private set; }

    /// <summary>Of <see cref="PromptTokens"/>, those Anthropic wrote to its prompt cache (<c>cache_creation_input_tokens</c>).</summary>
    public int CacheWriteTokens => _cacheWrite;

    /// <summary>Of <see cref="PromptTokens"/>, those Anthropic read from its prompt cache (<c>cache_read_input_tokens</c>).</summary>
    public int CacheReadTokens => _cacheRead;
    public int TotalTokens { get; private set; }

    /// <summary>The provider reported usage (in the JSON answer or an SSE chunk).</summary>
    public bool HasUsage { get; private set; }

    /// <summary>Bytes of the answer's body, for an estimate when the provider reports no usage.</summary>
    public long Bytes { get; private set; }

    /// <summary>Bytes of generated text in an SSE answer (<c>content</c>, <c>arguments</c>, <c>text</c>, <c>delta</c> strings), for the same estimate.</summary>
    public long TextBytes { get; private set; }

    public bool WasEventStream => _isEventStream == true;

    /// <summary>
    /// The provider's <c>id</c> of the answer (<c>chatcmpl-...</c>; <c>resp_...</c> of the Responses API, also as
    /// <c>response.id</c> in its first event); null when the answer had none near its start (embeddings, errors).
    /// </summary>
    public string? ResponseId { get; private set; }

    /// <summary>When the answer's first byte was passed on (<see cref="System.Diagnostics.Stopwatch"/> ticks); 0 before.</summary>
    public long FirstByteAt { get; private set; }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _inner.WriteAsync(buffer, cancellationToken);
        Observe(buffer.Span);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count)
    {
        _inner.Write(buffer, offset, count);
        Observe(buffer.AsSpan(offset, count));
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override void Flush() => _inner.Flush();

    /// <summary>
    /// Counts a translated answer's usage, read from the provider's own shape (Anthropic's input/output tokens);
    /// <paramref name="promptTokens"/> includes the cache tokens.
    /// </summary>
    public void Report(int promptTokens, int completionTokens, int cacheWriteTokens = 0, int cacheReadTokens = 0)
    {
        _reported = true;
        _input = promptTokens - cacheWriteTokens - cacheReadTokens;
        _cacheWrite = cacheWriteTokens;
        _cacheRead = cacheReadTokens;
        PromptTokens = promptTokens;
        CompletionTokens = completionTokens;
        TotalTokens = promptTokens + completionTokens;
        HasUsage = true;
    }

    /// <summary>Reads the counts of a non-streamed answer, once it has passed in full.</summary>
    public void Complete()
    {
        if (_tail is null)
        {
            return;
        }
        var tail = _tail.AsSpan(0, _tailLength);
        if (ResponseId is null && Bytes <= TailBytes)
        {
            // The first write was too short to hold the id, but the whole answer is in the tail.
            ReadId(tail);
        }
        var at = tail.LastIndexOf("\"usage\""u8);
        if (at >= 0)
        {
            // Read from the property on, as if it opened an object: the reader stops once the counts are read.
            Span<byte> json = stackalloc byte[tail.Length - at + 1];
            json[0] = (byte)'{';
            tail[at..].CopyTo(json[1..]);
            ReadUsage(json);
        }
        ArrayPool<byte>.Shared.Return(_tail);
        _tail = null;
    }

    private void Observe(ReadOnlySpan<byte> data)
    {
        if (Bytes == 0)
        {
            FirstByteAt = System.Diagnostics.Stopwatch.GetTimestamp();
        }
        Bytes += data.Length;
        if (!IsEventStream)
        {
            if (!_idLookedFor)
            {
                // OpenAI-shaped answers open with their id: the first write holds it.
                _idLookedFor = true;
                ReadId(data.Length > IdWindowBytes ? data[..IdWindowBytes] : data);
            }
            KeepTail(data);
            return;
        }
        while (!data.IsEmpty)
        {
            var newline = data.IndexOf((byte)'\n');
            if (newline < 0)
            {
                _line ??= new ArrayBufferWriter<byte>();
                if (_line.WrittenCount + data.Length <= MaxLineBytes)
                {
                    _line.Write(data);
                }
                return;
            }
            if (_line is { WrittenCount: > 0 })
            {
                _line.Write(data[..newline]);
                ReadEventLine(_line.WrittenSpan);
                _line.ResetWrittenCount();
            }
            else
            {
                ReadEventLine(data[..newline]);
            }
            data = data[(newline + 1)..];
        }
    }

    private void KeepTail(ReadOnlySpan<byte> data)
    {
        _tail ??= ArrayPool<byte>.Shared.Rent(TailBytes);
        if (data.Length >= TailBytes)
        {
            data[^TailBytes..].CopyTo(_tail);
            _tailLength = TailBytes;
            return;
        }
        var keep = Math.Min(_tailLength, TailBytes - data.Length);
        _tail.AsSpan(_tailLength - keep, keep).CopyTo(_tail);
        data.CopyTo(_tail.AsSpan(keep));
        _tailLength = keep + data.Length;
    }

    private void ReadEventLine(ReadOnlySpan<byte> line)
    {
        if (!line.StartsWith("data:"u8))
        {
            return;
        }
        if (!_idLookedFor)
        {
            // Every chunk repeats the id: the first one is enough.
            _idLookedFor = true;
            var payload = line[5..].Trim((byte)' ').TrimEnd((byte)'\r');
            ReadId(payload.Length > IdWindowBytes ? payload[..IdWindowBytes] : payload);
        }
        if (line.IndexOf("\"usage\""u8) >= 0)
        {
            ReadUsage(line[5..].Trim((byte)' ').TrimEnd((byte)'\r'));
        }
        if (!HasUsage)
        {
            TextBytes += TextIn(line, "\"content\":"u8) + TextIn(line, "\"arguments\":"u8) + TextIn(line, "\"text\":"u8) + TextIn(line, "\"delta\":"u8);
        }
    }

    /// <summary>Bytes of the string values of <paramref name="property"/> in one SSE line (escapes counted as written).</summary>
    private static int TextIn(ReadOnlySpan<byte> line, ReadOnlySpan<byte> property)
    {
        var count = 0;
        int at;
        while ((at = line.IndexOf(property)) >= 0)
        {
            line = line[(at + property.Length)..].TrimStart((byte)' ');
            if (line.IsEmpty || line[0] != (byte)'"')
            {
                continue;
            }
            var i = 1;
            while (i < line.Length && line[i] != (byte)'"')
            {
                i += line[i] == (byte)'\\' ? 2 : 1;
            }
            count += Math.Min(i, line.Length) - 1;
            line = line[Math.Min(i + 1, line.Length)..];
        }
        return count;
    }

    /// <summary>
    /// Reads the top-level <c>id</c> (or <c>response.id</c>) string of a JSON object of which <paramref name="json"/>
    /// may be only the start: the reader stops where the bytes end, and skips every other value it can.
    /// </summary>
    private void ReadId(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json, isFinalBlock: false, default);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return;
            }
            var inResponse = false;
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == 1 && inResponse)
                {
                    inResponse = false;
                    continue;
                }
                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    continue;
                }
                var depth = reader.CurrentDepth;
                var isId = reader.ValueTextEquals("id"u8) && (depth == 1 || (depth == 2 && inResponse));
                // Anthropic's stream opens with message_start, its id in "message".
                var isResponse = depth == 1 && (reader.ValueTextEquals("response"u8) || reader.ValueTextEquals("message"u8));
                if (!reader.Read())
                {
                    return;
                }
                if (isId && reader.TokenType == JsonTokenType.String)
                {
                    if (reader.ValueSpan.Length <= MaxIdLength && !reader.ValueIsEscaped)
                    {
                        ResponseId = System.Text.Encoding.UTF8.GetString(reader.ValueSpan);
                    }
                    return;
                }
                if (isResponse && reader.TokenType == JsonTokenType.StartObject)
                {
                    inResponse = true;
                }
                else if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && !reader.TrySkip())
                {
                    return;
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON (an odd error page): no id.
        }
    }

    /// <summary>Finds a <c>usage</c> object at the top level or one level down (the Responses API nests it in <c>response</c>).</summary>
    private void ReadUsage(ReadOnlySpan<byte> json)
    {
        if (_reported)
        {
            return;
        }
        try
        {
            var reader = new Utf8JsonReader(json);
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth <= 2 && reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        ReadCounts(ref reader);
                        return;
                    }
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON after all (a provider's odd error page): no counts, the answer itself still went through.
        }
    }

    /// <summary>
    /// Reads one <c>usage</c> object. Only the counts it has replace the ones read before: Anthropic's stream gives
    /// input tokens in <c>message_start</c> and the final output tokens in <c>message_delta</c>. Anthropic's cache
    /// tokens (written and read) are prompt tokens, kept apart as well for their own prices.
    /// </summary>
    private void ReadCounts(ref Utf8JsonReader reader)
    {
        int? prompt = null, completion = null, total = null, cacheWrite = null, cacheRead = null;
        var depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != depth + 1)
            {
                continue;
            }
            var name = reader.ValueSpan;
            reader.Read();
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var n))
            {
                continue;
            }
            if (name.SequenceEqual("prompt_tokens"u8) || name.SequenceEqual("input_tokens"u8)) prompt = n;
            else if (name.SequenceEqual("completion_tokens"u8) || name.SequenceEqual("output_tokens"u8)) completion = n;
            else if (name.SequenceEqual("total_tokens"u8)) total = n;
            else if (name.SequenceEqual("cache_creation_input_tokens"u8)) cacheWrite = n;
            else if (name.SequenceEqual("cache_read_input_tokens"u8)) cacheRead = n;
        }
        _input = prompt ?? _input;
        _cacheWrite = cacheWrite ?? _cacheWrite;
        _cacheRead = cacheRead ?? _cacheRead;
        PromptTokens = _input + _cacheWrite + _cacheRead;
        CompletionTokens = completion ?? CompletionTokens;
        TotalTokens = total is > 0 ? total.Value : PromptTokens + CompletionTokens;
        HasUsage = true;
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
