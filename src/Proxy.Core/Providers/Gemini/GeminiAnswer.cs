using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proxy.Core.Usage;

namespace Proxy.Core.Providers.Gemini;

/// <summary>
/// Gemini's answer as the client gets it, in OpenAI's shape, written as it arrives. Each event of a
/// <c>streamGenerateContent?alt=sse</c> stream is a whole <c>GenerateContentResponse</c> with the next text (or a whole
/// function call) of each candidate: it becomes <c>chat.completion.chunk</c>s, flushed at once; a candidate's
/// <c>finishReason</c> its last chunk's <c>finish_reason</c>. Gemini's stream has no end marker: when it ends, the usage
/// of its last event is counted, the usage chunk follows when the client asked for it, then <c>[DONE]</c>. A JSON answer,
/// an error included, is held until it is complete and translated by <see cref="GeminiCompletion"/> or <see cref="GeminiError"/>.
/// </summary>
internal sealed class GeminiAnswer(Stream toClient, HttpResponse response, bool includeUsage, GeminiAsked asked, UsageMeter meter) : AnswerTranslator(toClient, response)
{
    /// <summary>Gemini answers at most 8 candidates.</summary>
    private const int MaxCandidates = 8;

    private string? _id;
    private string _model = "";
    private long _created;
    private GeminiUsage? _usage;

    /// <summary>Per candidate: started (its role chunk sent), and how many function calls it made.</summary>
    private readonly bool[] _started = new bool[MaxCandidates];
    private readonly int[] _calls = new int[MaxCandidates];

    protected override ReadOnlyMemory<byte> Whole(ReadOnlyMemory<byte> answer) =>
        answer.IsEmpty ? default
        : Response.StatusCode is >= 200 and < 300 ? GeminiCompletion.Translate(answer, asked, meter) : GeminiError.Translate(Response.StatusCode, answer.Span);

    protected override void OnEvent(ReadOnlySpan<byte> json)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(json);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            // Not an event the translation knows (a provider's odd line): it is dropped, the stream goes on.
            return;
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return;
            }
            if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                // OpenAI's SDKs raise an error for a chunk that carries one.
                var w = Writer();
                w.WriteStartObject();
                GeminiError.Write(w, error.TryGetProperty("code", out var code) && code.TryGetInt32(out var status) ? status : 500,
                    error.TryGetProperty("status", out var s) ? s.GetString() : null, error.TryGetProperty("message", out var m) ? m.GetString() : null);
                w.WriteEndObject();
                End(w);
                return;
            }
            if (_id is null)
            {
                _id = GeminiShape.Id(root);
                _model = GeminiShape.Model(root);
                _created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            }
            if (root.TryGetProperty("usageMetadata", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                // Every event carries the usage so far; the last one's is the call's.
                _usage = GeminiUsage.Read(usage);
            }
            var candidates = GeminiShape.Candidates(root);
            if (candidates.ValueKind != JsonValueKind.Array || candidates.GetArrayLength() == 0)
            {
                if (GeminiShape.PromptBlocked(root))
                {
                    Start(0);
                    Finish(0, "content_filter");
                }
                return;
            }
            var position = 0;
            foreach (var candidate in candidates.EnumerateArray())
            {
                Candidate(candidate, Math.Clamp(GeminiShape.Index(candidate, position++), 0, MaxCandidates - 1));
            }
        }
    }

    private void Candidate(JsonElement candidate, int index)
    {
        Start(index);
        var parts = GeminiShape.Parts(candidate);
        if (parts.ValueKind == JsonValueKind.Array)
        {
            foreach (var part in parts.EnumerateArray())
            {
                if (GeminiShape.IsThought(part))
                {
                    continue;
                }
                if (GeminiShape.HasText(part, out var text))
                {
                    var w = Open(index);
                    GeminiShape.WriteText(w, text);
                    Close(w, null);
                }
                if (part.TryGetProperty("functionCall", out var call) && call.ValueKind == JsonValueKind.Object
                    && !(asked.HasFlag(GeminiAsked.OneToolCall) && _calls[index] == 1))
                {
                    // Gemini sends a function call whole: one delta with its id, name and all of its arguments.
                    ToolCall(index, _calls[index]++, part, call);
                }
            }
        }
        if (GeminiShape.Reason(candidate) is { } reason)
        {
            Finish(index, GeminiShape.FinishReason(reason, _calls[index] > 0));
        }
    }

    protected override void OnStreamEnd()
    {
        if (_usage is { } usage)
        {
            usage.Report(meter);
            if (includeUsage)
            {
                var w = Writer();
                w.WriteStartObject();
                Envelope(w);
                w.WriteStartArray("choices");
                w.WriteEndArray();
                usage.Write(w);
                w.WriteEndObject();
                End(w);
            }
        }
        Out.Write("data: [DONE]\n\n"u8);
    }

    /// <summary>A candidate's first chunk says the role, as OpenAI's does.</summary>
    private void Start(int index)
    {
        if (_started[index])
        {
            return;
        }
        _started[index] = true;
        var w = Open(index);
        w.WriteString("role", "assistant");
        w.WriteString("content", "");
        Close(w, null);
    }

    /// <summary>A chunk with an empty delta: the choice's finish reason.</summary>
    private void Finish(int index, string finishReason) => Close(Open(index), finishReason);

    private void ToolCall(int index, int callIndex, JsonElement part, JsonElement call)
    {
        var w = Open(index);
        w.WriteStartArray("tool_calls");
        w.WriteStartObject();
        w.WriteNumber("index", callIndex);
        w.WriteString("id", GeminiShape.ToolCallId(part, call));
        w.WriteString("type", "function");
        w.WriteStartObject("function");
        w.WriteString("name", call.TryGetProperty("name", out var name) ? name.GetString() : "");
        GeminiShape.WriteArguments(w, call);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
        Close(w, null);
    }

    /// <summary>A chunk up to its choice's open <c>delta</c>.</summary>
    private Utf8JsonWriter Open(int index)
    {
        var w = Writer();
        w.WriteStartObject();
        Envelope(w);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", index);
        w.WriteStartObject("delta");
        return w;
    }

    private void Close(Utf8JsonWriter w, string? finishReason)
    {
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

    /// <summary>The answer's writer, after <c>data: </c> in <see cref="AnswerTranslator.Out"/>.</summary>
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

    private void Envelope(Utf8JsonWriter w)
    {
        w.WriteString("id", _id ?? "");
        w.WriteString("object", "chat.completion.chunk");
        w.WriteNumber("created", _created);
        w.WriteString("model", _model);
    }
}
