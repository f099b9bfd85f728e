using System.Runtime.InteropServices;
using System.Text.Json;
using Amazon.Runtime.EventStreams;
using Amazon.Runtime.EventStreams.Internal;
using Microsoft.AspNetCore.Http;
using Proxy.Core.Providers.Anthropic;
using Proxy.Core.Usage;

namespace Proxy.Core.Providers.Bedrock;

/// <summary>
/// Bedrock's answer as the client gets it, in OpenAI's shape. ConverseStream answers in binary
/// <c>application/vnd.amazon.eventstream</c> frames, decoded by AWSSDK.Core's <see cref="EventStreamDecoder"/> (which
/// checks each frame's CRCs); each event (<c>messageStart</c>, <c>contentBlockStart</c>/<c>Delta</c> with text and
/// <c>toolUse</c>, <c>messageStop</c>, <c>metadata</c>) becomes <c>chat.completion.chunk</c> SSE, flushed at once. An
/// exception frame (throttling mid-stream) becomes an error chunk. A JSON answer, an error included, is translated whole
/// by <see cref="BedrockCompletion"/>.
/// </summary>
internal sealed class BedrockAnswer : AnswerTranslator
{
    public const string EventStreamType = "application/vnd.amazon.eventstream";

    private readonly bool _includeUsage;
    private readonly string _model;
    private readonly UsageMeter _meter;
    private readonly EventStreamDecoder _decoder = new();
    private readonly PooledBuffer _text = new(1024);
    private readonly string _id = "chatcmpl-" + Guid.NewGuid().ToString("N");
    private readonly long _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    private byte[]? _copy;
    private bool _stopped;
    private bool _done;
    private int _promptTokens;
    private int _completionTokens;
    private int _cacheReadTokens;
    private int _cacheWriteTokens;

    /// <summary>Converse content block index → OpenAI tool call index, for the toolUse blocks of the answer.</summary>
    private readonly Dictionary<int, int> _tools = [];

    public BedrockAnswer(Stream toClient, HttpResponse response, bool includeUsage, string model, UsageMeter meter) : base(toClient, response)
    {
        _includeUsage = includeUsage;
        _model = model;
        _meter = meter;
        _decoder.MessageReceived += (_, e) => OnMessage(e.Message);
    }

    protected override bool IsStreamType(string contentType) => contentType.StartsWith(EventStreamType, StringComparison.OrdinalIgnoreCase);

    protected override void OnStreamData(ReadOnlyMemory<byte> data)
    {
        // The client gets SSE, not AWS's frames: said before the first byte of the answer is written (a frame read
        // later must not touch the headers: once the answer has started they are read-only and Kestrel throws).
        if (!Response.HasStarted)
        {
            Response.ContentType = "text/event-stream";
        }
        if (MemoryMarshal.TryGetArray(data, out var segment))
        {
            _decoder.ProcessData(segment.Array!, segment.Offset, segment.Count);
            return;
        }
        if (_copy is null || _copy.Length < data.Length)
        {
            _copy = new byte[Math.Max(data.Length, 16 * 1024)];
        }
        data.CopyTo(_copy);
        _decoder.ProcessData(_copy, 0, data.Length);
    }

    /// <summary>Only binary frames come here (<see cref="OnStreamData"/>): never SSE.</summary>
    protected override void OnEvent(ReadOnlySpan<byte> data)
    {
    }

    protected override void OnStreamEnd()
    {
        if (_stopped && !_done)
        {
            Finish();
        }
    }

    protected override ReadOnlyMemory<byte> Whole(ReadOnlyMemory<byte> answer) =>
        answer.IsEmpty && Response.StatusCode is >= 200 and < 300 ? default
        : Response.StatusCode is >= 200 and < 300 ? BedrockCompletion.Translate(answer, _model, _meter)
        : BedrockCompletion.Error(Response.StatusCode, Response.Headers["x-amzn-ErrorType"].ToString(), answer.Span);

    protected override void Dispose(bool disposing)
    {
        _decoder.Dispose();
        _text.Dispose();
        base.Dispose(disposing);
    }

    private void OnMessage(EventStreamMessage message)
    {
        var kind = Header(message, ":message-type");
        if (kind != "event")
        {
            // An exception frame (throttlingException, modelStreamErrorException, ...) or an error frame ends the answer.
            var e = BedrockEvent.Read(message.Payload, _text);
            var type = kind == "exception" ? Header(message, ":exception-type") : Header(message, ":error-code");
            var w = Writer();
            w.WriteStartObject();
            BedrockCompletion.WriteError(w, type is "throttlingException" or "ThrottlingException" ? 429 : 500, type, e.Message ?? Header(message, ":error-message"));
            w.WriteEndObject();
            End(w);
            _done = true;
            return;
        }
        var ev = BedrockEvent.Read(message.Payload, _text);
        switch (Header(message, ":event-type"))
        {
            case "messageStart":
                Chunk(ChunkDelta.Role, 0, null, null, null);
                break;
            case "contentBlockStart" when ev.ToolUseId is not null:
                var toolIndex = _tools.Count;
                _tools[ev.Index] = toolIndex;
                Chunk(ChunkDelta.ToolCall, toolIndex, ev.ToolUseId, ev.ToolName, null);
                break;
            case "contentBlockDelta" when ev.HasText:
                Chunk(ChunkDelta.Text, 0, null, null, null);
                break;
            case "contentBlockDelta" when ev.HasToolInput && _tools.TryGetValue(ev.Index, out var tool):
                Chunk(ChunkDelta.ToolArguments, tool, null, null, null);
                break;
            case "messageStop":
                _stopped = true;
                Chunk(ChunkDelta.None, 0, null, null, BedrockCompletion.FinishReason(ev.StopReason));
                break;
            case "metadata" when ev.HasUsage:
                _promptTokens = ev.InputTokens + ev.CacheReadTokens + ev.CacheWriteTokens;
                _completionTokens = ev.OutputTokens;
                _cacheReadTokens = ev.CacheReadTokens;
                _cacheWriteTokens = ev.CacheWriteTokens;
                Finish();
                break;
        }
    }

    /// <summary>The end of the answer: its usage to the meter (and to the client when asked), then <c>[DONE]</c>.</summary>
    private void Finish()
    {
        _meter.Report(_promptTokens, _completionTokens, _cacheWriteTokens, _cacheReadTokens);
        if (_includeUsage)
        {
            var w = Writer();
            w.WriteStartObject();
            Envelope(w);
            w.WriteStartArray("choices");
            w.WriteEndArray();
            OpenAIShape.Usage(w, _promptTokens, _completionTokens);
            w.WriteEndObject();
            End(w);
        }
        Out.Write("data: [DONE]\n\n"u8);
        _done = true;
    }

    private static string? Header(EventStreamMessage message, string name) =>
        message.Headers.TryGetValue(name, out var header) ? header.AsString() : null;

    /// <summary>One <c>chat.completion.chunk</c>; text and tool arguments come from <see cref="_text"/>.</summary>
    private void Chunk(ChunkDelta delta, int toolIndex, string? toolId, string? toolName, string? finishReason)
    {
        var w = Writer();
        w.WriteStartObject();
        Envelope(w);
        OpenAIShape.ChunkChoice(w, delta, _text.Written, toolIndex, toolId, toolName, finishReason);
        w.WriteEndObject();
        End(w);
    }

    private Utf8JsonWriter Writer()
    {
        Out.Write("data: "u8);
        return WriterAtOut();
    }

    private void End(Utf8JsonWriter w)
    {
        w.Flush();
        Out.Write("\n\n"u8);
    }

    private void Envelope(Utf8JsonWriter w)
    {
        w.WriteString("id", _id);
        w.WriteString("object", "chat.completion.chunk");
        w.WriteNumber("created", _created);
        w.WriteString("model", _model);
    }
}
