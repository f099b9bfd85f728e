using System.Text.Json;

namespace Proxy.Core.Providers.Anthropic;

/// <summary>What one event of Anthropic's stream says, read in one pass with a <see cref="Utf8JsonReader"/>: no document per event.</summary>
internal struct AnthropicEvent
{
        public string? Type;
        public int Index;
        public string? Id;
        public string? Model;
        /// <summary>All of the input, the cache tokens included; <see cref="CacheWriteTokens"/> and <see cref="CacheReadTokens"/> are part of it.</summary>
        public int InputTokens;
        public int CacheWriteTokens;
        public int CacheReadTokens;
        public int OutputTokens;
        public string? BlockType;
        public string? BlockId;
        public string? BlockName;
        public string? DeltaType;
        public string? StopReason;
        public string? ErrorType;
        public string? ErrorMessage;
    

    /// <summary>What one event says, read in one pass; the text of a delta is unescaped into <paramref name="text"/>.</summary>
    public static AnthropicEvent Read(ReadOnlySpan<byte> json, PooledBuffer text)
    {
        var e = new AnthropicEvent();
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
                        Take(ref reader, ref e, text, depth, depth >= 2 ? (Field)path[1] : Field.None, name);
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
    private static void Take(ref Utf8JsonReader reader, ref AnthropicEvent e, PooledBuffer text, int depth, Field parent, Field name)
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
            case (3, Field.Message, Field.InputTokens) when number:
                e.InputTokens += reader.GetInt32();
                break;
            case (3, Field.Message, Field.CacheWriteTokens) when number:
                e.CacheWriteTokens = reader.GetInt32();
                e.InputTokens += e.CacheWriteTokens;
                break;
            case (3, Field.Message, Field.CacheReadTokens) when number:
                e.CacheReadTokens = reader.GetInt32();
                e.InputTokens += e.CacheReadTokens;
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
                text.Clear();
                text.Advance(reader.CopyString(text.GetSpan(reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length)));
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
        : reader.ValueTextEquals("cache_creation_input_tokens"u8) ? Field.CacheWriteTokens
        : reader.ValueTextEquals("cache_read_input_tokens"u8) ? Field.CacheReadTokens
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
        None, Other, Type, Index, Message, Id, Model, Usage, InputTokens, CacheWriteTokens, CacheReadTokens, OutputTokens, ContentBlock, Name, Delta, Text,
        PartialJson, StopReason, Error,
    }
}
