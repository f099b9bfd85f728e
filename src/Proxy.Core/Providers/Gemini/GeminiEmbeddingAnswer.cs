using System.Buffers.Binary;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Proxy.Core.Providers.Gemini;

/// <summary>
/// <c>batchEmbedContents</c>'s <c>{"embeddings": [{"values": [...]}]}</c> as OpenAI's embedding list, in order; base64
/// (little-endian float32, as OpenAI encodes it) when the client asked for it. Gemini reports no usage here: the gateway
/// estimates it from the request, as for any provider that does not say (the usage row says "estimated").
/// </summary>
internal sealed class GeminiEmbeddingAnswer(Stream toClient, HttpResponse response, GeminiAsked asked) : AnswerTranslator(toClient, response)
{
    protected override void OnEvent(ReadOnlySpan<byte> data)
    {
        // Embeddings are never streamed.
    }

    protected override ReadOnlyMemory<byte> Whole(ReadOnlyMemory<byte> answer) =>
        answer.IsEmpty ? default
        : Response.StatusCode is >= 200 and < 300 ? Translate(answer, asked.HasFlag(GeminiAsked.Base64Embeddings)) : GeminiError.Translate(Response.StatusCode, answer.Span);

    public static byte[] Translate(ReadOnlyMemory<byte> json, bool base64)
    {
        using var answer = JsonDocument.Parse(json);
        using var output = new PooledBuffer(json.Length + 256);
        using (var w = new Utf8JsonWriter(output, WireJson.Options))
        {
            w.WriteStartObject();
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            if (answer.RootElement.TryGetProperty("embeddings", out var embeddings) && embeddings.ValueKind == JsonValueKind.Array)
            {
                var index = 0;
                foreach (var embedding in embeddings.EnumerateArray())
                {
                    w.WriteStartObject();
                    w.WriteString("object", "embedding");
                    w.WriteNumber("index", index++);
                    var values = embedding.TryGetProperty("values", out var v) && v.ValueKind == JsonValueKind.Array ? v : default;
                    if (base64)
                    {
                        w.WriteBase64String("embedding", Bytes(values));
                    }
                    else
                    {
                        w.WriteStartArray("embedding");
                        if (values.ValueKind == JsonValueKind.Array)
                        {
                            foreach (var value in values.EnumerateArray())
                            {
                                w.WriteNumberValue(value.GetDouble());
                            }
                        }
                        w.WriteEndArray();
                    }
                    w.WriteEndObject();
                }
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return output.Written.ToArray();
    }

    private static byte[] Bytes(JsonElement values)
    {
        if (values.ValueKind != JsonValueKind.Array)
        {
            return [];
        }
        var bytes = new byte[values.GetArrayLength() * sizeof(float)];
        var at = 0;
        foreach (var value in values.EnumerateArray())
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(at), value.GetSingle());
            at += sizeof(float);
        }
        return bytes;
    }
}
