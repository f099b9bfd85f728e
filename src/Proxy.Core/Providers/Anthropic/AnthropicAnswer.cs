using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Core.Usage;

namespace Proxy.Core.Providers.Anthropic;

/// <summary>
/// Anthropic's answer as the client gets it, in OpenAI's shape, written as it arrives. An SSE stream is translated
/// here event by event (<c>message_start</c>, <c>content_block_*</c> with text and <c>tool_use</c> blocks, <c>message_delta</c>,
/// <c>message_stop</c>; <c>ping</c> is dropped) into <c>chat.completion.chunk</c> events, each flushed at once; a JSON
/// answer, an error included, is held until it is complete and then translated by <see cref="AnthropicCompletion"/>.
/// Events are read by <see cref="AnthropicEvent"/> and written with one <see cref="Utf8JsonWriter"/>, both on pooled
/// buffers: no document per chunk.
/// </summary>
internal sealed class AnthropicAnswer(Stream toClient, HttpResponse response, bool includeUsage, UsageMeter meter) : AnswerTranslator(toClient, response)
{
    private readonly PooledBuffer _text = new(1024);
    private string _id = "";
    private string _model = "";
    private long _created;
    private int _promptTokens;
    private int _cacheWriteTokens;
    private int _cacheReadTokens;
    private int _completionTokens;

    /// <summary>Anthropic block index → OpenAI tool call index, for the tool_use blocks of the answer.</summary>
    private readonly Dictionary<int, int> _tools = [];

    protected override ReadOnlyMemory<byte> Whole(ReadOnlyMemory<byte> answer) =>
        answer.IsEmpty ? default
        : Response.StatusCode is >= 200 and < 300 ? AnthropicCompletion.Translate(answer, meter) : AnthropicCompletion.Error(Response.StatusCode, answer.Span);

    protected override void Dispose(bool disposing)
    {
        _text.Dispose();
        base.Dispose(disposing);
    }

    protected override void OnEvent(ReadOnlySpan<byte> json)
    {
        var e = AnthropicEvent.Read(json, _text);
        switch (e.Type)
        {
            case "message_start":
                _id = e.Id ?? _id;
                _model = e.Model ?? _model;
                _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
                _promptTokens = e.InputTokens;
                _cacheWriteTokens = e.CacheWriteTokens;
                _cacheReadTokens = e.CacheReadTokens;
                _completionTokens = e.OutputTokens;
                Chunk(ChunkDelta.Role, 0, null, null, null);
                break;
            case "content_block_start" when e.BlockType == "tool_use":
                var toolIndex = _tools.Count;
                _tools[e.Index] = toolIndex;
                Chunk(ChunkDelta.ToolCall, toolIndex, e.BlockId, e.BlockName, null);
                break;
            case "content_block_delta" when e.DeltaType == "text_delta":
                Chunk(ChunkDelta.Text, 0, null, null, null);
                break;
            case "content_block_delta" when e.DeltaType == "input_json_delta" && _tools.TryGetValue(e.Index, out var tool):
                Chunk(ChunkDelta.ToolArguments, tool, null, null, null);
                break;
            case "message_delta":
                _completionTokens = Math.Max(_completionTokens, e.OutputTokens);
                if (e.StopReason is { } stop)
                {
                    Chunk(ChunkDelta.None, 0, null, null, OpenAIShape.FinishReason(stop));
                }
                break;
            case "message_stop":
                meter.Report(_promptTokens, _completionTokens, _cacheWriteTokens, _cacheReadTokens);
                if (includeUsage)
                {
                    Usage();
                }
                Out.Write("data: [DONE]\n\n"u8);
                break;
            case "error":
                // OpenAI's SDKs raise an error for a chunk that carries one.
                var w = Writer();
                w.WriteStartObject();
                OpenAIShape.Error(w, 500, e.ErrorType, e.ErrorMessage);
                w.WriteEndObject();
                End(w);
                break;
        }
    }

    /// <summary>One <c>chat.completion.chunk</c>; text and tool arguments come from <see cref="_text"/>.</summary>
    private void Chunk(ChunkDelta delta, int toolIndex, string? toolId, string? toolName, string? finishReason)
    {
        var w = Writer();
        w.WriteStartObject();
        Envelope(w, "chat.completion.chunk");
        OpenAIShape.ChunkChoice(w, delta, _text.Written, toolIndex, toolId, toolName, finishReason);
        w.WriteEndObject();
        End(w);
    }

    /// <summary>The usage chunk OpenAI sends last when <c>stream_options.include_usage</c> is set: no choices.</summary>
    private void Usage()
    {
        var w = Writer();
        w.WriteStartObject();
        Envelope(w, "chat.completion.chunk");
        w.WriteStartArray("choices");
        w.WriteEndArray();
        OpenAIShape.Usage(w, _promptTokens, _completionTokens);
        w.WriteEndObject();
        End(w);
    }

    /// <summary>The answer's writer, after <c>data: </c> in <see cref="Out"/>.</summary>
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

    private void Envelope(Utf8JsonWriter w, string type)
    {
        w.WriteString("id", _id);
        w.WriteString("object", type);
        w.WriteNumber("created", _created);
        w.WriteString("model", _model);
    }
}
