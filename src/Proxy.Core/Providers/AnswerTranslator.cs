using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Proxy.Core.Providers;

/// <summary>
/// A provider's answer turned into the client's shape as it is written. An SSE stream is translated event by event:
/// each event's <c>data:</c> goes to <see cref="OnEvent"/>, and what that wrote to <see cref="Out"/> is sent and flushed
/// after every write of the provider's. A JSON answer, an error included, is held until it is complete and translated
/// whole by <see cref="Whole"/>. <see cref="CompleteAsync"/> once the provider is done.
/// </summary>
internal abstract class AnswerTranslator(Stream toClient, HttpResponse response) : Stream
{
    /// <summary>A JSON answer is held until it is complete, up to this size (providers' longest answers are far smaller).</summary>
    private const int MaxJsonBytes = 64 * 1024 * 1024;

    private readonly PooledBuffer _pending = new();
    private readonly PooledBuffer _event = new();
    private bool? _isStream;
    private Utf8JsonWriter? _writer;

    /// <summary>What the translation has written for the client and not yet sent.</summary>
    protected PooledBuffer Out { get; } = new();

    protected HttpResponse Response => response;

    /// <summary>A successful SSE answer; decided at the first byte (or at the end), when the provider's status and headers are known.</summary>
    protected bool IsStream => _isStream ??= response.StatusCode is >= 200 and < 300 && response.ContentType is { } type && IsStreamType(type);

    /// <summary>The provider's content type of a stream: SSE, or a binary one (Bedrock's event stream) that <see cref="OnStreamData"/> decodes.</summary>
    protected virtual bool IsStreamType(string contentType) => contentType.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase);

    /// <summary>A piece of a successful stream as it arrives: SSE is read into events for <see cref="OnEvent"/>; a binary stream's translator decodes it itself.</summary>
    protected virtual void OnStreamData(ReadOnlyMemory<byte> data)
    {
        _pending.Write(data.Span);
        ReadEvents();
    }

    /// <summary>The answer's one JSON writer, set to write at the end of <see cref="Out"/> (after an event's prefix already there).</summary>
    protected Utf8JsonWriter WriterAtOut()
    {
        if (_writer is null)
        {
            _writer = new Utf8JsonWriter(Out, WireJson.Options);
        }
        else
        {
            _writer.Reset(Out);
        }
        return _writer;
    }

    /// <summary>One SSE event's data (its <c>data:</c> lines joined), to be translated into <see cref="Out"/>.</summary>
    protected abstract void OnEvent(ReadOnlySpan<byte> data);

    /// <summary>The stream has ended, with or without its own last event: whatever the client still needs goes to <see cref="Out"/>.</summary>
    protected virtual void OnStreamEnd()
    {
    }

    /// <summary>A whole JSON answer (or error, see <see cref="Response"/>'s status) as the client gets it; empty: nothing.</summary>
    protected abstract ReadOnlyMemory<byte> Whole(ReadOnlyMemory<byte> answer);

    public sealed override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!IsStream)
        {
            if (_pending.Count + buffer.Length > MaxJsonBytes)
            {
                throw new InvalidDataException("The provider's answer is larger than the gateway translates.");
            }
            _pending.Write(buffer.Span);
            return;
        }
        OnStreamData(buffer);
        await SendAsync(cancellationToken);
    }

    /// <summary>Ends a stream, or translates and writes the held JSON answer.</summary>
    public async ValueTask CompleteAsync(CancellationToken ct)
    {
        if (IsStream)
        {
            OnStreamEnd();
            await SendAsync(ct);
            return;
        }
        var body = Whole(_pending.WrittenMemory);
        if (!body.IsEmpty)
        {
            await toClient.WriteAsync(body, ct);
        }
    }

    private async ValueTask SendAsync(CancellationToken ct)
    {
        if (Out.Count > 0)
        {
            await toClient.WriteAsync(Out.WrittenMemory, ct);
            await toClient.FlushAsync(ct);
            Out.Clear();
        }
    }

    /// <summary>SSE lines: <c>data:</c> lines gather until the blank line that ends an event (its <c>event:</c> name is also in its data).</summary>
    private void ReadEvents()
    {
        var consumed = 0;
        var data = _pending.Written;
        int newline;
        while ((newline = data[consumed..].IndexOf((byte)'\n')) >= 0)
        {
            var line = data.Slice(consumed, newline).TrimEnd((byte)'\r');
            consumed += newline + 1;
            if (line.IsEmpty)
            {
                if (_event.Count > 0)
                {
                    OnEvent(_event.Written);
                    _event.Clear();
                }
            }
            else if (line.StartsWith("data:"u8))
            {
                _event.Write(line[5..].TrimStart((byte)' '));
            }
        }
        _pending.Consume(consumed);
    }

    protected override void Dispose(bool disposing)
    {
        _writer?.Dispose();
        _pending.Dispose();
        _event.Dispose();
        Out.Dispose();
        base.Dispose(disposing);
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
