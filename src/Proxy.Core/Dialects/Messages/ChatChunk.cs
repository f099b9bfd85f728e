using System.Text.Json;

namespace Proxy.Core.Dialects.Messages;

/// <summary>
/// What one <c>chat.completion.chunk</c> says, read in one pass with a <see cref="Utf8JsonReader"/>: no document per
/// chunk. The text and the tool arguments are kept as where their JSON string tokens are in the chunk, quotes
/// included, so the translation copies them as they came, escapes and all, without decoding them.
/// </summary>
internal sealed class ChatChunk
{
    public string? Id;
    public string? Model;

    /// <summary>The <c>content</c> string token of the delta; empty when it has none.</summary>
    public Range Content;
    public string? FinishReason;
    public int? PromptTokens;
    public int? CompletionTokens;
    public string? Error;
    public readonly List<ToolCallDelta> ToolCalls = [];

    /// <summary>A piece of a tool call: the first carries its id and name, the others pieces of its arguments.</summary>
    public readonly record struct ToolCallDelta(int Index, string? Id, string? Name, Range Arguments);

    /// <summary>Reads a chunk's JSON; what it does not know is skipped. A <see cref="JsonException"/> for one that is not JSON.</summary>
    public void Read(ReadOnlySpan<byte> json)
    {
        Id = Model = FinishReason = Error = null;
        Content = default;
        PromptTokens = CompletionTokens = null;
        ToolCalls.Clear();
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return;
        }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = Name(ref reader);
            reader.Read();
            switch (name)
            {
                case Field.Id:
                    Id = String(ref reader);
                    break;
                case Field.Model:
                    Model = String(ref reader);
                    break;
                case Field.Choices when reader.TokenType == JsonTokenType.StartArray:
                    while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                    {
                        ReadChoice(ref reader);
                    }
                    break;
                case Field.Usage when reader.TokenType == JsonTokenType.StartObject:
                    ReadUsage(ref reader);
                    break;
                case Field.Error:
                    Error = reader.TokenType == JsonTokenType.String ? reader.GetString() : ErrorMessage(ref reader);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
    }

    /// <summary>The gateway never asks for more than one choice: every choice is read as the one.</summary>
    private void ReadChoice(ref Utf8JsonReader reader)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = Name(ref reader);
            reader.Read();
            switch (name)
            {
                case Field.Delta when reader.TokenType == JsonTokenType.StartObject:
                    ReadDelta(ref reader);
                    break;
                case Field.FinishReason:
                    FinishReason = String(ref reader) ?? FinishReason;
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
    }

    private void ReadDelta(ref Utf8JsonReader reader)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = Name(ref reader);
            reader.Read();
            switch (name)
            {
                case Field.Content when reader.TokenType == JsonTokenType.String:
                    Content = Token(ref reader);
                    break;
                case Field.ToolCalls when reader.TokenType == JsonTokenType.StartArray:
                    while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                    {
                        ReadToolCall(ref reader);
                    }
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
    }

    private void ReadToolCall(ref Utf8JsonReader reader)
    {
        var index = 0;
        string? id = null, name = null;
        Range arguments = default;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var property = Name(ref reader);
            reader.Read();
            switch (property)
            {
                case Field.Index when reader.TokenType == JsonTokenType.Number:
                    index = reader.GetInt32();
                    break;
                case Field.Id:
                    id = String(ref reader);
                    break;
                case Field.Function when reader.TokenType == JsonTokenType.StartObject:
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var field = Name(ref reader);
                        reader.Read();
                        if (field == Field.Name)
                        {
                            name = String(ref reader);
                        }
                        else if (field == Field.Arguments && reader.TokenType == JsonTokenType.String)
                        {
                            arguments = Token(ref reader);
                        }
                        else
                        {
                            reader.Skip();
                        }
                    }
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        ToolCalls.Add(new ToolCallDelta(index, id, name, arguments));
    }

    private void ReadUsage(ref Utf8JsonReader reader)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = Name(ref reader);
            reader.Read();
            var count = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var n) ? n : (int?)null;
            if (name == Field.PromptTokens)
            {
                PromptTokens = count;
            }
            else if (name == Field.CompletionTokens)
            {
                CompletionTokens = count;
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private static string? ErrorMessage(ref Utf8JsonReader reader)
    {
        string? message = null;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = Name(ref reader);
            reader.Read();
            if (name == Field.Message)
            {
                message = String(ref reader);
            }
            else
            {
                reader.Skip();
            }
        }
        return message ?? "The provider's stream failed.";
    }

    /// <summary>The few property names this reads, compared as UTF-8: no string for a name.</summary>
    private static Field Name(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("id"u8) ? Field.Id
        : reader.ValueTextEquals("model"u8) ? Field.Model
        : reader.ValueTextEquals("choices"u8) ? Field.Choices
        : reader.ValueTextEquals("usage"u8) ? Field.Usage
        : reader.ValueTextEquals("error"u8) ? Field.Error
        : reader.ValueTextEquals("delta"u8) ? Field.Delta
        : reader.ValueTextEquals("finish_reason"u8) ? Field.FinishReason
        : reader.ValueTextEquals("content"u8) ? Field.Content
        : reader.ValueTextEquals("tool_calls"u8) ? Field.ToolCalls
        : reader.ValueTextEquals("index"u8) ? Field.Index
        : reader.ValueTextEquals("function"u8) ? Field.Function
        : reader.ValueTextEquals("name"u8) ? Field.Name
        : reader.ValueTextEquals("arguments"u8) ? Field.Arguments
        : reader.ValueTextEquals("prompt_tokens"u8) ? Field.PromptTokens
        : reader.ValueTextEquals("completion_tokens"u8) ? Field.CompletionTokens
        : reader.ValueTextEquals("message"u8) ? Field.Message
        : Field.Other;

    private enum Field
    {
        Other, Id, Model, Choices, Usage, Error, Delta, FinishReason, Content, ToolCalls, Index, Function, Name, Arguments, PromptTokens,
        CompletionTokens, Message,
    }

    private static string? String(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString();
        }
        reader.Skip();
        return null;
    }

    /// <summary>Where the string token is, quotes included (a chunk is one span, so its value is never in pieces).</summary>
    private static Range Token(ref Utf8JsonReader reader)
    {
        var start = (int)reader.TokenStartIndex;
        return start..(start + reader.ValueSpan.Length + 2);
    }
}
