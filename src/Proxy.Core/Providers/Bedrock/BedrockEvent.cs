using System.Text.Json;

namespace Proxy.Core.Providers.Bedrock;

/// <summary>
/// What the JSON payload of one ConverseStream event says (<c>contentBlockStart</c>, <c>contentBlockDelta</c>,
/// <c>messageStop</c>, <c>metadata</c>, or an exception's <c>message</c>), read in one pass with a <see cref="Utf8JsonReader"/>.
/// </summary>
internal struct BedrockEvent
{
    public int Index;
    public string? ToolUseId;
    public string? ToolName;

    /// <summary>The delta carried text (<c>delta.text</c>) or tool input (<c>delta.toolUse.input</c>), unescaped into the text buffer.</summary>
    public bool HasText;
    public bool HasToolInput;
    public string? StopReason;
    public bool HasUsage;

    /// <summary>Bedrock's <c>inputTokens</c>, without the cache's; <see cref="CacheReadTokens"/> and <see cref="CacheWriteTokens"/> come on top.</summary>
    public int InputTokens;
    public int OutputTokens;
    public int CacheReadTokens;
    public int CacheWriteTokens;
    public string? Message;

    public static BedrockEvent Read(ReadOnlySpan<byte> json, PooledBuffer text)
    {
        var e = new BedrockEvent();
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
                        Take(ref reader, ref e, text, depth, depth >= 2 ? (Field)path[1] : Field.None, depth >= 3 ? (Field)path[2] : Field.None, name);
                        break;
                }
            }
        }
        catch (JsonException)
        {
            // A payload the translation does not know is dropped; the stream goes on.
        }
        return e;
    }

    private static void Take(ref Utf8JsonReader reader, ref BedrockEvent e, PooledBuffer text, int depth, Field parent, Field inner, Field name)
    {
        var number = reader.TokenType == JsonTokenType.Number;
        switch (depth, parent, inner, name)
        {
            case (1, _, _, Field.ContentBlockIndex) when number:
                e.Index = reader.GetInt32();
                break;
            case (1, _, _, Field.StopReason) when !number:
                e.StopReason = reader.GetString();
                break;
            case (1, _, _, Field.Message) when !number:
                e.Message = reader.GetString();
                break;
            case (3, Field.Start, Field.ToolUse, Field.ToolUseId) when !number:
                e.ToolUseId = reader.GetString();
                break;
            case (3, Field.Start, Field.ToolUse, Field.Name) when !number:
                e.ToolName = reader.GetString();
                break;
            case (2, Field.Delta, _, Field.Text) when !number:
                e.HasText = true;
                Copy(ref reader, text);
                break;
            case (3, Field.Delta, Field.ToolUse, Field.Input) when !number:
                e.HasToolInput = true;
                Copy(ref reader, text);
                break;
            case (2, Field.Usage, _, _) when number:
                e.HasUsage = true;
                switch (name)
                {
                    case Field.InputTokens: e.InputTokens = reader.GetInt32(); break;
                    case Field.OutputTokens: e.OutputTokens = reader.GetInt32(); break;
                    case Field.CacheReadTokens: e.CacheReadTokens = reader.GetInt32(); break;
                    case Field.CacheWriteTokens: e.CacheWriteTokens = reader.GetInt32(); break;
                }
                break;
        }
    }

    private static void Copy(ref Utf8JsonReader reader, PooledBuffer text)
    {
        text.Clear();
        text.Advance(reader.CopyString(text.GetSpan(reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length)));
    }

    private static Field FieldOf(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("contentBlockIndex"u8) ? Field.ContentBlockIndex
        : reader.ValueTextEquals("start"u8) ? Field.Start
        : reader.ValueTextEquals("delta"u8) ? Field.Delta
        : reader.ValueTextEquals("toolUse"u8) ? Field.ToolUse
        : reader.ValueTextEquals("toolUseId"u8) ? Field.ToolUseId
        : reader.ValueTextEquals("name"u8) ? Field.Name
        : reader.ValueTextEquals("text"u8) ? Field.Text
        : reader.ValueTextEquals("input"u8) ? Field.Input
        : reader.ValueTextEquals("stopReason"u8) ? Field.StopReason
        : reader.ValueTextEquals("usage"u8) ? Field.Usage
        : reader.ValueTextEquals("inputTokens"u8) ? Field.InputTokens
        : reader.ValueTextEquals("outputTokens"u8) ? Field.OutputTokens
        : reader.ValueTextEquals("cacheReadInputTokens"u8) ? Field.CacheReadTokens
        : reader.ValueTextEquals("cacheWriteInputTokens"u8) ? Field.CacheWriteTokens
        : reader.ValueTextEquals("message"u8) || reader.ValueTextEquals("Message"u8) ? Field.Message
        : Field.Other;

    private enum Field
    {
        None, Other, ContentBlockIndex, Start, Delta, ToolUse, ToolUseId, Name, Text, Input, StopReason, Usage, InputTokens, OutputTokens,
        CacheReadTokens, CacheWriteTokens, Message,
    }
}
