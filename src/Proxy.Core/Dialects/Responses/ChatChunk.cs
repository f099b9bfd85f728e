using System.Text.Json;
using Proxy.Core.Providers;

namespace Proxy.Core.Dialects.Responses;

/// <summary>
/// What one <c>chat.completion.chunk</c> says (of its first choice), read in one pass with a <see cref="Utf8JsonReader"/>:
/// no document per chunk. Its text and tool arguments are unescaped into a buffer the caller passes, and found there
/// by <see cref="Range"/>.
/// </summary>
internal struct ChatChunk
{
    public string? Id;
    public string? Model;
    public long Created;
    public Range? Text;
    public string? FinishReason;
    public ChatUsage? Usage;
    public bool IsError;
    public string? ErrorCode;
    public string? ErrorMessage;

    /// <summary>Reads a chunk; its tool calls are added to <paramref name="calls"/> (cleared first), its strings to <paramref name="text"/>.</summary>
    public static ChatChunk Read(ReadOnlySpan<byte> json, PooledBuffer text, List<ToolCallDelta> calls)
    {
        var chunk = new ChatChunk();
        text.Clear();
        calls.Clear();
        var reader = new Utf8JsonReader(json);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return chunk;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("id"u8))
                {
                    chunk.Id = String(ref reader);
                }
                else if (reader.ValueTextEquals("model"u8))
                {
                    chunk.Model = String(ref reader);
                }
                else if (reader.ValueTextEquals("created"u8))
                {
                    reader.Read();
                    chunk.Created = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var created) ? created : 0;
                }
                else if (reader.ValueTextEquals("choices"u8))
                {
                    ReadChoices(ref reader, ref chunk, text, calls);
                }
                else if (reader.ValueTextEquals("usage"u8))
                {
                    chunk.Usage = ReadUsage(ref reader);
                }
                else if (reader.ValueTextEquals("error"u8))
                {
                    ReadError(ref reader, ref chunk);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            // Not a chunk the translation knows (a provider's odd line): what was read so far counts, the stream goes on.
        }
        return chunk;
    }

    /// <summary>The first choice only: the Responses API answers with one.</summary>
    private static void ReadChoices(ref Utf8JsonReader reader, ref ChatChunk chunk, PooledBuffer text, List<ToolCallDelta> calls)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return;
        }
        var first = true;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (!first || reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }
            first = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("delta"u8) || reader.ValueTextEquals("message"u8))
                {
                    ReadDelta(ref reader, ref chunk, text, calls);
                }
                else if (reader.ValueTextEquals("finish_reason"u8))
                {
                    chunk.FinishReason = String(ref reader);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
    }

    private static void ReadDelta(ref Utf8JsonReader reader, ref ChatChunk chunk, PooledBuffer text, List<ToolCallDelta> calls)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("content"u8))
            {
                chunk.Text = Copy(ref reader, text);
            }
            else if (reader.ValueTextEquals("tool_calls"u8))
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
                {
                    reader.Skip();
                    continue;
                }
                while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                {
                    calls.Add(ReadToolCall(ref reader, calls.Count, text));
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    /// <summary>One tool call of a delta; a provider that sends no index gets its place in the list.</summary>
    private static ToolCallDelta ReadToolCall(ref Utf8JsonReader reader, int place, PooledBuffer text)
    {
        int? index = null;
        string? id = null, name = null;
        Range? arguments = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("index"u8))
            {
                reader.Read();
                index = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var i) ? i : null;
            }
            else if (reader.ValueTextEquals("id"u8))
            {
                id = String(ref reader);
            }
            else if (reader.ValueTextEquals("function"u8))
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("name"u8))
                    {
                        name = String(ref reader);
                    }
                    else if (reader.ValueTextEquals("arguments"u8))
                    {
                        arguments = Copy(ref reader, text);
                    }
                    else
                    {
                        reader.Read();
                        reader.Skip();
                    }
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return new ToolCallDelta(index ?? place, id, name, arguments);
    }

    private static ChatUsage? ReadUsage(ref Utf8JsonReader reader)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }
        int prompt = 0, completion = 0, cached = 0, reasoning = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("prompt_tokens"u8))
            {
                prompt = Integer(ref reader);
            }
            else if (reader.ValueTextEquals("completion_tokens"u8))
            {
                completion = Integer(ref reader);
            }
            else if (reader.ValueTextEquals("prompt_tokens_details"u8))
            {
                cached = Detail(ref reader, "cached_tokens"u8);
            }
            else if (reader.ValueTextEquals("completion_tokens_details"u8))
            {
                reasoning = Detail(ref reader, "reasoning_tokens"u8);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return new ChatUsage(prompt, completion, cached, reasoning);
    }

    /// <summary>OpenAI's <c>{"error": {"message", "type", "code"}}</c>; some providers send the message alone.</summary>
    private static void ReadError(ref Utf8JsonReader reader, ref ChatChunk chunk)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }
        chunk.IsError = true;
        if (reader.TokenType == JsonTokenType.String)
        {
            chunk.ErrorMessage = reader.GetString();
            return;
        }
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("message"u8))
            {
                chunk.ErrorMessage = String(ref reader);
            }
            else if (reader.ValueTextEquals("code"u8) || (reader.ValueTextEquals("type"u8) && chunk.ErrorCode is null))
            {
                reader.Read();
                chunk.ErrorCode = reader.TokenType switch
                {
                    JsonTokenType.String => reader.GetString(),
                    JsonTokenType.Number => System.Text.Encoding.UTF8.GetString(reader.ValueSpan),
                    _ => chunk.ErrorCode,
                };
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static int Detail(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        var value = 0;
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return value;
        }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(name))
            {
                value = Integer(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return value;
    }

    /// <summary>The next value if it is a string; anything else (null, a list, an object) is passed over.</summary>
    private static string? String(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString();
        }
        reader.Skip();
        return null;
    }

    private static int Integer(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var n))
        {
            return n;
        }
        reader.Skip();
        return 0;
    }

    /// <summary>The next value, if it is a string, unescaped to the end of <paramref name="text"/>; anything else is passed over.</summary>
    private static Range? Copy(ref Utf8JsonReader reader, PooledBuffer text)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.String)
        {
            reader.Skip();
            return null;
        }
        var start = text.Count;
        text.Advance(reader.CopyString(text.GetSpan(reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length)));
        return start..text.Count;
    }
}
