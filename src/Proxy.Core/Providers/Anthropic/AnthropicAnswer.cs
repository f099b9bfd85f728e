using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Core.Usage;

namespace Proxy.Core.Providers.Anthropic;

/// <summary>
/// Anthropic's answer as the client gets it, in OpenAI's shape, written as it arrives. An SSE stream is translated
/// event by event (<c>message_start</c>, <c>content_block_*</c> with text and <c>tool_use</c> blocks, <c>message_delta</c>,
/// <c>message_stop</c>; <c>ping</c> is dropped) into <c>chat.completion.chunk</c> events, each flushed at once; a JSON
/// answer, an error included, is translated once it is complete. Events are read with a <see cref="Utf8JsonReader"/>
/// and written with a <see cref="Utf8JsonWriter"/>, both on pooled buffers: no document per chunk.
/// </summary>
internal sealed class AnthropicAnswer(Stream toClient, HttpResponse response, bool includeUsage, UsageMeter meter) : AnswerTranslator
{
    /// <summary>A JSON answer is held until it is complete, up to this size (Anthropic's longest answers are far smaller).</summary>
    private const int MaxJsonBytes = 64 * 1024 * 1024;

    private readonly PooledBuffer _pending = new();
    private readonly PooledBuffer _event = new();
    private readonly PooledBuffer _out = new();
    private readonly PooledBuffer _text = new(1024);
    private Utf8JsonWriter? _writer;
    private bool? _isStream;
    private string _id = "";
    private string _model = "";
    private long _created;
    private int _promptTokens;
    private int _completionTokens;

    /// <summary>Anthropic block index → OpenAI tool call index, for the tool_use blocks of the answer.</summary>
    private readonly Dictionary<int, int> _tools = [];

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _isStream ??= response.StatusCode is >= 200 and < 300
            && response.ContentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true;
        if (_isStream == false)
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
        if (_out.Count > 0)
        {
            await toClient.WriteAsync(_out.WrittenMemory, cancellationToken);
            await toClient.FlushAsync(cancellationToken);
            _out.Clear();
        }
    }

    public override async ValueTask CompleteAsync(CancellationToken ct)
    {
        if (_isStream != false || _pending.Count == 0)
        {
            return;
        }
        var body = response.StatusCode is >= 200 and < 300 ? Completion(_pending.WrittenMemory) : Error(response.StatusCode, _pending.Written);
        await toClient.WriteAsync(body, ct);
    }

    protected override void Dispose(bool disposing)
    {
        _writer?.Dispose();
        _pending.Dispose();
        _event.Dispose();
        _out.Dispose();
        _text.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>SSE lines: <c>data:</c> lines gather until the blank line that ends an event (the <c>event:</c> name is also in its data).</summary>
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

    private void OnEvent(ReadOnlySpan<byte> json)
    {
        var e = Read(json);
        switch (e.Type)
        {
            case "message_start":
                _id = e.Id ?? _id;
                _model = e.Model ?? _model;
                _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
                _promptTokens = e.InputTokens;
                _completionTokens = e.OutputTokens;
                Chunk(Delta.Role, 0, null, null, null);
                break;
            case "content_block_start" when e.BlockType == "tool_use":
                var toolIndex = _tools.Count;
                _tools[e.Index] = toolIndex;
                Chunk(Delta.ToolCall, toolIndex, e.BlockId, e.BlockName, null);
                break;
            case "content_block_delta" when e.DeltaType == "text_delta":
                Chunk(Delta.Text, 0, null, null, null);
                break;
            case "content_block_delta" when e.DeltaType == "input_json_delta" && _tools.TryGetValue(e.Index, out var tool):
                Chunk(Delta.ToolArguments, tool, null, null, null);
                break;
            case "message_delta":
                _completionTokens = Math.Max(_completionTokens, e.OutputTokens);
                if (e.StopReason is { } stop)
                {
                    Chunk(Delta.None, 0, null, null, FinishReason(stop));
                }
                break;
            case "message_stop":
                meter.Report(_promptTokens, _completionTokens);
                if (includeUsage)
                {
                    Usage();
                }
                _out.Write("data: [DONE]\n\n"u8);
                break;
            case "error":
                // OpenAI's SDKs raise an error for a chunk that carries one.
                var w = Writer();
                w.WriteStartObject();
                ErrorBody(w, 500, e.ErrorType, e.ErrorMessage);
                w.WriteEndObject();
                End(w);
                break;
        }
    }

    private enum Delta
    {
        None,
        Role,
        Text,
        ToolCall,
        ToolArguments,
    }

    /// <summary>One <c>chat.completion.chunk</c>; text and tool arguments come from <see cref="_text"/>.</summary>
    private void Chunk(Delta delta, int toolIndex, string? toolId, string? toolName, string? finishReason)
    {
        var w = Writer();
        w.WriteStartObject();
        Envelope(w, "chat.completion.chunk");
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        w.WriteStartObject("delta");
        switch (delta)
        {
            case Delta.Role:
                w.WriteString("role", "assistant");
                w.WriteString("content", "");
                break;
            case Delta.Text:
                w.WriteString("content", _text.Written);
                break;
            case Delta.ToolCall:
                ToolCall(w, toolIndex, toolId, toolName, ""u8);
                break;
            case Delta.ToolArguments:
                ToolCall(w, toolIndex, null, null, _text.Written);
                break;
        }
        w.WriteEndObject();
        if (finishReason is null)
        {
            w.WriteNull("finish_reason");
        }
        else
        {
            w.WriteString("finish_reason", finishReason);
        }
        w.WriteEndObject();
        w.WriteEndArray();
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
        UsageObject(w, _promptTokens, _completionTokens);
        w.WriteEndObject();
        End(w);
    }

    /// <summary>The one writer of this answer, set to write after <c>data: </c> in <see cref="_out"/>.</summary>
    private Utf8JsonWriter Writer()
    {
        _out.Write("data: "u8);
        if (_writer is null)
        {
            _writer = new Utf8JsonWriter(_out, AnthropicApi.Json);
        }
        else
        {
            _writer.Reset(_out);
        }
        return _writer;
    }

    private void End(Utf8JsonWriter w)
    {
        w.Flush();
        _out.Write("\n\n"u8);
    }

    private void Envelope(Utf8JsonWriter w, string type)
    {
        w.WriteString("id", _id);
        w.WriteString("object", type);
        w.WriteNumber("created", _created);
        w.WriteString("model", _model);
    }

    private static void ToolCall(Utf8JsonWriter w, int index, string? id, string? name, ReadOnlySpan<byte> arguments)
    {
        w.WriteStartArray("tool_calls");
        w.WriteStartObject();
        w.WriteNumber("index", index);
        if (id is not null)
        {
            w.WriteString("id", id);
            w.WriteString("type", "function");
        }
        w.WriteStartObject("function");
        if (name is not null)
        {
            w.WriteString("name", name);
        }
        w.WriteString("arguments", arguments);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
    }

    private static void UsageObject(Utf8JsonWriter w, int prompt, int completion)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", prompt);
        w.WriteNumber("completion_tokens", completion);
        w.WriteNumber("total_tokens", prompt + completion);
        w.WriteEndObject();
    }

    /// <summary>OpenAI's finish reasons for Anthropic's stop reasons.</summary>
    private static string FinishReason(string stop) => stop switch
    {
        "max_tokens" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "stop",
    };

    /// <summary>What one event says, read in one pass; the text of a delta is unescaped into <see cref="_text"/>.</summary>
    private Event Read(ReadOnlySpan<byte> json)
    {
        var e = new Event();
        var reader = new Utf8JsonReader(json);
        Span<int> path = stackalloc int[4];
        var depth = 0;
        var name = Field.None;
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        name = FieldOf(ref reader);
                        break;
                    case JsonTokenType.StartObject:
                        if (depth < path.Length)
                        {
                            path[depth] = (int)name;
                        }
                        depth++;
                        name = Field.None;
                        break;
                    case JsonTokenType.EndObject:
                        depth--;
                        break;
                    case JsonTokenType.StartArray:
                        reader.Skip();
                        break;
                    case JsonTokenType.String or JsonTokenType.Number:
                        Take(ref reader, ref e, depth, depth >= 2 ? (Field)path[1] : Field.None, name);
                        break;
                }
            }
        }
        catch (JsonException)
        {
            // Not an event the translation knows (a provider's odd line): it is dropped, the stream goes on.
        }
        return e;
    }

    /// <param name="parent">The top-level property the value is in (message, content_block, delta, usage, error).</param>
    private void Take(ref Utf8JsonReader reader, ref Event e, int depth, Field parent, Field name)
    {
        var number = reader.TokenType == JsonTokenType.Number;
        switch (depth, parent, name)
        {
            case (1, _, Field.Type) when !number:
                e.Type = reader.GetString();
                break;
            case (1, _, Field.Index) when number:
                e.Index = reader.GetInt32();
                break;
            case (2, Field.Message, Field.Id) when !number:
                e.Id = reader.GetString();
                break;
            case (2, Field.Message, Field.Model) when !number:
                e.Model = reader.GetString();
                break;
            case (3, Field.Message, Field.InputTokens or Field.CacheTokens) when number:
                e.InputTokens += reader.GetInt32();
                break;
            case (3, Field.Message, Field.OutputTokens) or (2, Field.Usage, Field.OutputTokens) when number:
                e.OutputTokens = reader.GetInt32();
                break;
            case (2, Field.ContentBlock, Field.Type) when !number:
                e.BlockType = reader.GetString();
                break;
            case (2, Field.ContentBlock, Field.Id) when !number:
                e.BlockId = reader.GetString();
                break;
            case (2, Field.ContentBlock, Field.Name) when !number:
                e.BlockName = reader.GetString();
                break;
            case (2, Field.Delta, Field.Type) when !number:
                e.DeltaType = reader.GetString();
                break;
            case (2, Field.Delta, Field.Text or Field.PartialJson) when !number:
                _text.Clear();
                _text.Advance(reader.CopyString(_text.GetSpan(reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length)));
                break;
            case (2, Field.Delta, Field.StopReason) when !number:
                e.StopReason = reader.GetString();
                break;
            case (2, Field.Error, Field.Type) when !number:
                e.ErrorType = reader.GetString();
                break;
            case (2, Field.Error, Field.Message) when !number:
                e.ErrorMessage = reader.GetString();
                break;
        }
    }

    private static Field FieldOf(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("type"u8) ? Field.Type
        : reader.ValueTextEquals("index"u8) ? Field.Index
        : reader.ValueTextEquals("message"u8) ? Field.Message
        : reader.ValueTextEquals("id"u8) ? Field.Id
        : reader.ValueTextEquals("model"u8) ? Field.Model
        : reader.ValueTextEquals("usage"u8) ? Field.Usage
        : reader.ValueTextEquals("input_tokens"u8) ? Field.InputTokens
        : reader.ValueTextEquals("cache_creation_input_tokens"u8) || reader.ValueTextEquals("cache_read_input_tokens"u8) ? Field.CacheTokens
        : reader.ValueTextEquals("output_tokens"u8) ? Field.OutputTokens
        : reader.ValueTextEquals("content_block"u8) ? Field.ContentBlock
        : reader.ValueTextEquals("name"u8) ? Field.Name
        : reader.ValueTextEquals("delta"u8) ? Field.Delta
        : reader.ValueTextEquals("text"u8) ? Field.Text
        : reader.ValueTextEquals("partial_json"u8) ? Field.PartialJson
        : reader.ValueTextEquals("stop_reason"u8) ? Field.StopReason
        : reader.ValueTextEquals("error"u8) ? Field.Error
        : Field.Other;

    private enum Field
    {
        None, Other, Type, Index, Message, Id, Model, Usage, InputTokens, CacheTokens, OutputTokens, ContentBlock, Name, Delta, Text,
        PartialJson, StopReason, Error,
    }

    private struct Event
    {
        public string? Type;
        public int Index;
        public string? Id;
        public string? Model;
        public int InputTokens;
        public int OutputTokens;
        public string? BlockType;
        public string? BlockId;
        public string? BlockName;
        public string? DeltaType;
        public string? StopReason;
        public string? ErrorType;
        public string? ErrorMessage;
    }

    /// <summary>A complete Messages answer as a <c>chat.completion</c>. Once per call, so a document is fine here.</summary>
    private byte[] Completion(ReadOnlyMemory<byte> json)
    {
        using var answer = JsonDocument.Parse(json);
        var root = answer.RootElement;
        var usage = root.TryGetProperty("usage", out var u) ? u : default;
        var prompt = Tokens(usage, "input_tokens") + Tokens(usage, "cache_creation_input_tokens") + Tokens(usage, "cache_read_input_tokens");
        var completion = Tokens(usage, "output_tokens");
        meter.Report(prompt, completion);
        using var output = new PooledBuffer(json.Length + 256);
        using (var w = new Utf8JsonWriter(output, AnthropicApi.Json))
        {
            w.WriteStartObject();
            w.WriteString("id", root.TryGetProperty("id", out var id) ? id.GetString() : "");
            w.WriteString("object", "chat.completion");
            w.WriteNumber("created", DateTimeOffset.UtcNow.ToUnixTimeSeconds());
            w.WriteString("model", root.TryGetProperty("model", out var model) ? model.GetString() : "");
            w.WriteStartArray("choices");
            w.WriteStartObject();
            w.WriteNumber("index", 0);
            w.WriteStartObject("message");
            w.WriteString("role", "assistant");
            var blocks = root.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array ? content.EnumerateArray().ToList() : [];
            var text = string.Concat(blocks.Where(b => Type(b) == "text").Select(b => b.GetProperty("text").GetString()));
            var tools = blocks.Where(b => Type(b) == "tool_use").ToList();
            if (text.Length == 0 && tools.Count > 0)
            {
                w.WriteNull("content");
            }
            else
            {
                w.WriteString("content", text);
            }
            if (tools.Count > 0)
            {
                w.WriteStartArray("tool_calls");
                foreach (var tool in tools)
                {
                    w.WriteStartObject();
                    w.WriteString("id", tool.GetProperty("id").GetString());
                    w.WriteString("type", "function");
                    w.WriteStartObject("function");
                    w.WriteString("name", tool.GetProperty("name").GetString());
                    w.WriteString("arguments", tool.TryGetProperty("input", out var input) ? input.GetRawText() : "{}");
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
            w.WriteString("finish_reason", FinishReason(root.TryGetProperty("stop_reason", out var stop) && stop.ValueKind == JsonValueKind.String ? stop.GetString()! : "end_turn"));
            w.WriteEndObject();
            w.WriteEndArray();
            UsageObject(w, prompt, completion);
            w.WriteEndObject();
        }
        return output.Written.ToArray();

        static string? Type(JsonElement block) => block.TryGetProperty("type", out var t) ? t.GetString() : null;
    }

    private static int Tokens(JsonElement usage, string name) =>
        usage.ValueKind == JsonValueKind.Object && usage.TryGetProperty(name, out var n) && n.TryGetInt32(out var value) ? value : 0;

    /// <summary>Anthropic's <c>{"type": "error", "error": {"type", "message"}}</c> as the OpenAI envelope, with the status's type.</summary>
    public static byte[] Error(int status, ReadOnlySpan<byte> json)
    {
        string? type = null, message = null;
        try
        {
            using var error = JsonDocument.Parse(json.ToArray());
            if (error.RootElement.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object)
            {
                type = e.TryGetProperty("type", out var t) ? t.GetString() : null;
                message = e.TryGetProperty("message", out var m) ? m.GetString() : null;
            }
        }
        catch (JsonException)
        {
            message = null;
        }
        using var output = new PooledBuffer(512);
        using (var w = new Utf8JsonWriter(output, AnthropicApi.Json))
        {
            w.WriteStartObject();
            ErrorBody(w, status, type, message);
            w.WriteEndObject();
        }
        return output.Written.ToArray();
    }

    private static void ErrorBody(Utf8JsonWriter w, int status, string? anthropicType, string? message)
    {
        w.WriteStartObject("error");
        w.WriteString("message", $"Anthropic: {message ?? $"the provider answered {status}"}" + (anthropicType is null ? "" : $" ({anthropicType})"));
        w.WriteString("type", status switch
        {
            400 or 413 => "invalid_request_error",
            401 => "auth_error",
            403 => "permission_error",
            404 => "not_found_error",
            429 => "rate_limit_error",
            _ => "upstream_error",
        });
        w.WriteNull("param");
        w.WriteString("code", status.ToString(CultureInfo.InvariantCulture));
        w.WriteEndObject();
    }
}
