using System.Text.Json;

namespace Proxy.Core.Forwarding;

/// <summary>
/// Finds the top-level <c>model</c> of a JSON request body with a <see cref="Utf8JsonReader"/> (no document is built)
/// and rewrites only that value, leaving every other byte of the body as the client sent it.
/// </summary>
public readonly struct ModelField
{
    private ModelField(string? value, int start, int end, int objectStart, bool objectEmpty)
    {
        Value = value;
        Start = start;
        End = end;
        ObjectStart = objectStart;
        ObjectEmpty = objectEmpty;
    }

    /// <summary>The model name, or null when the body has no <c>model</c>.</summary>
    public string? Value { get; }

    private int Start { get; }
    private int End { get; }
    private int ObjectStart { get; }
    private bool ObjectEmpty { get; }

    /// <summary>Throws a 400 <see cref="ProxyError"/> when the body is not a JSON object or <c>model</c> is not a string.</summary>
    public static ModelField Find(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 128 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw ProxyError.BadRequest("Request body must be a JSON object.");
            }
            var objectStart = (int)reader.TokenStartIndex;
            var empty = true;
            string? value = null;
            int start = 0, end = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                empty = false;
                var isModel = reader.ValueTextEquals("model"u8);
                reader.Read();
                if (isModel && value is not null)
                {
                    // Parsers disagree on which duplicate wins; the provider must never see a model we did not resolve.
                    throw ProxyError.BadRequest("model appears more than once in the request body.", "model");
                }
                if (isModel)
                {
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        throw ProxyError.BadRequest("model must be a string, e.g. \"model\": \"my-team-model\".", "model");
                    }
                    value = reader.GetString();
                    start = (int)reader.TokenStartIndex;
                    end = (int)reader.BytesConsumed;
                }
                else
                {
                    reader.Skip();
                }
            }
            return new ModelField(value, start, end, objectStart, empty);
        }
        catch (JsonException e)
        {
            throw ProxyError.BadRequest(e.Message.Contains("depth", StringComparison.OrdinalIgnoreCase)
                ? "Request body is nested too deeply (at most 128 levels)."
                : $"Request body is not valid JSON (line {e.LineNumber + 1}, position {e.BytePositionInLine}).");
        }
    }

    /// <summary>An upper bound of the rewritten body's length, for renting its buffer.</summary>
    public static int MaxRewrittenLength(int bodyLength, string upstreamName) => bodyLength + 16 + 6 * upstreamName.Length;

    /// <summary>
    /// Writes the body with <c>model</c> set to <paramref name="upstreamName"/> (added first when the body had none)
    /// into <paramref name="destination"/> and returns its length.
    /// </summary>
    public int Rewrite(ReadOnlySpan<byte> body, string upstreamName, Span<byte> destination)
    {
        var encoded = JsonEncodedText.Encode(upstreamName).EncodedUtf8Bytes;
        int at;
        if (Value is not null)
        {
            body[..Start].CopyTo(destination);
            at = Start;
            destination[at++] = (byte)'"';
            encoded.CopyTo(destination[at..]);
            at += encoded.Length;
            destination[at++] = (byte)'"';
            body[End..].CopyTo(destination[at..]);
            return at + body.Length - End;
        }
        // Azure-style routes name the model in the path; the provider still wants it in the body.
        var insertAt = ObjectStart + 1;
        body[..insertAt].CopyTo(destination);
        at = insertAt;
        "\"model\":\""u8.CopyTo(destination[at..]);
        at += 9;
        encoded.CopyTo(destination[at..]);
        at += encoded.Length;
        destination[at++] = (byte)'"';
        if (!ObjectEmpty)
        {
            destination[at++] = (byte)',';
        }
        body[insertAt..].CopyTo(destination[at..]);
        return at + body.Length - insertAt;
    }
}
