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
internal sealed class MessagesAnswer(Stream toClient, HttpResponse response) : AnswerTranslator
{
    /// <summary>A JSON answer is held until it is complete, up to this size.</summary>
    private const int MaxJsonBytes = 64 * 1024 * 1024;

    private readonly PooledBuffer _pending = new();
    private readonly PooledBuffer _event = new();
    private readonly PooledBuffer _out = new();
    private readonly ChatChunk _chunk = new();
    private Utf8JsonWriter? _writer;
    private bool? _isStream;
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

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
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
        _pending.Write(buffer.Span);
        ReadLines();
        await FlushOutAsync(cancellationToken);
    }

    /// <summary>A stream that ended without <c>[DONE]</c> still gets its end; a held JSON answer is translated and sent.</summary>
    public override async ValueTask CompleteAsync(CancellationToken ct)
    {
        if (IsStream)
        {
            Finish();
            await FlushOutAsync(ct);
            return;
        }
        var ok = response.StatusCode is >= 200 and < 300;
        if (ok && _pending.Count == 0)
        {
            return;
        }
        var body = ok ? MessagesCompletion.FromChat(_pending.WrittenMemory) : MessagesError.FromOpenAI(response.StatusCode, _pending.Written);
        if (!response.HasStarted)
        {
            // The provider's own type may not be JSON (an error page); what the client gets is.
            response.ContentType = "application/json";
        }
        await toClient.WriteAsync(body, ct);
    }

    protected override void Dispose(bool disposing)
    {
        _writer?.Dispose();
        _pending.Dispose();
        _event.Dispose();
        _out.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>Decided at the first byte, when the provider's status and headers are known.</summary>
    private bool IsStream => _isStream ??= response.StatusCode is >= 200 and < 300
        && response.ContentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true;

    private async ValueTask FlushOutAsync(CancellationToken ct)
    {
        if (_out.Count > 0)
        {
            await toClient.WriteAsync(_out.WrittenMemory, ct);
            await toClient.FlushAsync(ct);
            _out.Clear();
        }
    }

    /// <summary>SSE lines: <c>data:</c> lines gather until the blank line that ends an event.</summary>
    private void ReadLines()
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
                    OnChunk(_event.Written);
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

    private void OnChunk(ReadOnlySpan<byte> json)
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
        _out.Write("event: "u8);
        _out.Write(type);
        _out.Write("\ndata: "u8);
        if (_writer is null)
        {
            _writer = new Utf8JsonWriter(_out, AnthropicApi.Json);
        }
        else
        {
            _writer.Reset(_out);
        }
        _writer.WriteStartObject();
        _writer.WriteString("type", type);
        return _writer;
    }

    private void End(Utf8JsonWriter w)
    {
        w.WriteEndObject();
        w.Flush();
        _out.Write("\n\n"u8);
    }
}
