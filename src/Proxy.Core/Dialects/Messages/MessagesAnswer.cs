using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Core.Providers;
using Proxy.Core.Providers.Anthropic;

namespace Proxy.Core.Dialects.Messages;

/// <summary>
/// An OpenAI-shaped provider's chat completions answer as Anthropic's Messages answer, written as it arrives. An SSE
/// stream is translated chunk by chunk, each write flushed: <c>message_start</c> at the first chunk, the text and
/// each tool call as a content block of its own (<c>content_block_start</c>, <c>text_delta</c> or
/// <c>input_json_delta</c>, <c>content_block_stop</c>), then <c>message_delta</c> with the stop reason and both token
/// counts (once the usage chunk has come, or at the end without it) and <c>message_stop</c>. A JSON answer, an error
/// included, is held until it is complete, then translated whole.
/// </summary>
internal sealed class MessagesAnswer(Stream toClient, HttpResponse response) : AnswerTranslator(toClient, response)
{
    private readonly ChatChunk _chunk = new();
    private bool _started;
    private bool _stopped;

    /// <summary>Content blocks opened so far: the index of the next.</summary>
    private int _blocks;
    private Block _open;

    /// <summary>The chat tool call index of the open tool_use block.</summary>
    private int _openTool = -1;
    private string? _stopReason;
    private int _inputTokens;
    private int _outputTokens;

    private enum Block
    {
        None,
        Text,
        ToolUse,
    }

    /// <summary>A stream that ended without <c>[DONE]</c> still gets its end.</summary>
    protected override void OnStreamEnd() => Finish();

    /// <summary>A held JSON answer, translated; an error in Anthropic's shape.</summary>
    protected override ReadOnlyMemory<byte> Whole(ReadOnlyMemory<byte> answer)
    {
        var ok = Response.StatusCode is >= 200 and < 300;
        if (ok && answer.IsEmpty)
        {
            return default;
        }
        if (!Response.HasStarted)
        {
            // The provider's own type may not be JSON (an error page); what the client gets is.
            Response.ContentType = "application/json";
        }
        return ok ? MessagesCompletion.FromChat(answer) : MessagesError.FromOpenAI(Response.StatusCode, answer.Span);
    }

    protected override void OnEvent(ReadOnlySpan<byte> json)
    {
        if (json.SequenceEqual("[DONE]"u8))
        {
            Finish();
            return;
        }
        if (_stopped)
        {
            return;
        }
        try
        {
            _chunk.Read(json);
        }
        catch (JsonException)
        {
            // Not a chunk the translation knows (a provider's odd line): it is dropped, the stream goes on.
            return;
        }
        if (_chunk.Error is { } error)
        {
            // Anthropic's SDKs raise an error for this event; nothing follows it.
            var w = Event("error"u8);
            w.WriteStartObject("error");
            w.WriteString("type", "api_error");
            w.WriteString("message", error);
            w.WriteEndObject();
            End(w);
            _stopped = true;
            return;
        }
        Start(_chunk.Id, _chunk.Model);
        if (HasText(_chunk.Content))
        {
            if (_open != Block.Text)
            {
                OpenBlock(Block.Text, -1, null, null);
            }
            Delta("text_delta"u8, "text"u8, json[_chunk.Content]);
        }
        foreach (var call in _chunk.ToolCalls)
        {
            // Chat streams one tool call after another; a new index is a new call.
            if (_open != Block.ToolUse || call.Index != _openTool)
            {
                OpenBlock(Block.ToolUse, call.Index, call.Id ?? MessagesShape.ToolUseId(), call.Name ?? "");
            }
            if (HasText(call.Arguments))
            {
                Delta("input_json_delta"u8, "partial_json"u8, json[call.Arguments]);
            }
        }
        if (_chunk.FinishReason is { } finish)
        {
            CloseBlock();
            _stopReason = MessagesShape.StopReason(finish);
        }
        _inputTokens = _chunk.PromptTokens ?? _inputTokens;
        _outputTokens = _chunk.CompletionTokens ?? _outputTokens;
        if (_stopReason is not null && _chunk.CompletionTokens is not null)
        {
            // The usage chunk comes last (or with the finish reason, from some providers): the answer is complete.
            Finish();
        }
    }

    private void Start(string? id, string? model)
    {
        if (_started)
        {
            return;
        }
        _started = true;
        var w = Event("message_start"u8);
        w.WriteStartObject("message");
        w.WriteString("id", MessagesShape.MessageId(id));
        w.WriteString("type", "message");
        w.WriteString("role", "assistant");
        w.WriteString("model", model ?? "");
        w.WriteStartArray("content");
        w.WriteEndArray();
        w.WriteNull("stop_reason");
        w.WriteNull("stop_sequence");
        Usage(w, 0, 0);
        w.WriteEndObject();
        End(w);
    }

    /// <summary>Closes the open block, if any, and opens a text or tool_use block.</summary>
    private void OpenBlock(Block block, int tool, string? id, string? name)
    {
        CloseBlock();
        var w = Event("content_block_start"u8);
        w.WriteNumber("index", _blocks);
        w.WriteStartObject("content_block");
        if (block == Block.Text)
        {
            w.WriteString("type", "text");
            w.WriteString("text", "");
        }
        else
        {
            w.WriteString("type", "tool_use");
            w.WriteString("id", id);
            w.WriteString("name", name);
            w.WriteStartObject("input");
            w.WriteEndObject();
        }
        w.WriteEndObject();
        End(w);
        _open = block;
        _openTool = tool;
    }

    /// <summary>A piece of the open block: <paramref name="token"/> is the chunk's JSON string, copied as it came.</summary>
    private void Delta(ReadOnlySpan<byte> type, ReadOnlySpan<byte> field, ReadOnlySpan<byte> token)
    {
        var w = Event("content_block_delta"u8);
        w.WriteNumber("index", _blocks);
        w.WriteStartObject("delta");
        w.WriteString("type", type);
        w.WritePropertyName(field);
        w.WriteRawValue(token, skipInputValidation: true);
        w.WriteEndObject();
        End(w);
    }

    private void CloseBlock()
    {
        if (_open == Block.None)
        {
            return;
        }
        var w = Event("content_block_stop"u8);
        w.WriteNumber("index", _blocks);
        End(w);
        _blocks++;
        _open = Block.None;
        _openTool = -1;
    }

    /// <summary>The end of the message, once: <c>message_delta</c> carries both counts, as the usage meter keeps the last it sees.</summary>
    private void Finish()
    {
        if (_stopped)
        {
            return;
        }
        _stopped = true;
        Start(null, null);
        CloseBlock();
        var w = Event("message_delta"u8);
        w.WriteStartObject("delta");
        w.WriteString("stop_reason", _stopReason ?? "end_turn");
        w.WriteNull("stop_sequence");
        w.WriteEndObject();
        Usage(w, _inputTokens, _outputTokens);
        End(w);
        End(Event("message_stop"u8));
    }

    /// <summary>A string token longer than the quotes of an empty string (a chunk's <c>"content": ""</c> opens no block).</summary>
    private static bool HasText(Range token) => token.End.Value - token.Start.Value > 2;

    private static void Usage(Utf8JsonWriter w, int input, int output)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("input_tokens", input);
        w.WriteNumber("output_tokens", output);
        w.WriteEndObject();
    }

    /// <summary>Starts an event: its name line, then its data, an object whose <c>type</c> is the name (as Anthropic's SDKs check).</summary>
    private Utf8JsonWriter Event(ReadOnlySpan<byte> type)
    {
        Out.Write("event: "u8);
        Out.Write(type);
        Out.Write("\ndata: "u8);
        var w = WriterAtOut();
        w.WriteStartObject();
        w.WriteString("type", type);
        return w;
    }

    private void End(Utf8JsonWriter w)
    {
        w.WriteEndObject();
        w.Flush();
        Out.Write("\n\n"u8);
    }
}
