using System.Text.Json;

namespace Proxy.Core.Providers.Gemini;

/// <summary>The pieces of OpenAI's answer both translations (stream and whole answer) take from Gemini's.</summary>
internal static class GeminiShape
{
    /// <summary>OpenAI's finish reason for Gemini's; a turn that called functions ends in <c>tool_calls</c> (Gemini says STOP).</summary>
    public static string FinishReason(string? reason, bool calledTools) => reason switch
    {
        "MAX_TOKENS" => "length",
        "SAFETY" or "RECITATION" or "BLOCKLIST" or "PROHIBITED_CONTENT" or "SPII" or "IMAGE_SAFETY" or "IMAGE_PROHIBITED_CONTENT" or "LANGUAGE" => "content_filter",
        _ when calledTools => "tool_calls",
        _ => "stop",
    };

    /// <summary>
    /// Between a tool call's id and the <c>thoughtSignature</c> Gemini gave its call, which Gemini 3 wants back with the
    /// call: OpenAI's shape has no place for it, but its clients send the id back as it was. LiteLLM's convention, so a
    /// conversation moves between the two.
    /// </summary>
    public const string ThoughtSignatureSeparator = "__thought__";

    /// <summary>
    /// The call's own id when Gemini gives one, else one made up (OpenAI's clients send it back with the result), with
    /// the part's <c>thoughtSignature</c> after <see cref="ThoughtSignatureSeparator"/> when it has one.
    /// </summary>
    public static string ToolCallId(JsonElement part, JsonElement functionCall)
    {
        var id = functionCall.TryGetProperty("id", out var given) && given.ValueKind == JsonValueKind.String && given.GetString() is { Length: > 0 } g ? g
            : $"call_{Guid.NewGuid():N}";
        return part.TryGetProperty("thoughtSignature", out var signature) && signature.ValueKind == JsonValueKind.String && signature.GetString() is { Length: > 0 } s
            ? $"{id}{ThoughtSignatureSeparator}{s}"
            : id;
    }

    /// <summary>A function call's arguments as OpenAI carries them, a JSON object in a string: Gemini's own bytes, not re-serialized.</summary>
    public static void WriteArguments(Utf8JsonWriter w, JsonElement functionCall) =>
        w.WriteString("arguments", functionCall.TryGetProperty("args", out var args) && args.ValueKind == JsonValueKind.Object
            ? System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(args) : "{}"u8);

    /// <summary>A part's text as the chunk's <c>content</c>, as Gemini escaped it (valid JSON already): no string per chunk.</summary>
    public static void WriteText(Utf8JsonWriter w, JsonElement text)
    {
        w.WritePropertyName("content");
        w.WriteRawValue(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(text), skipInputValidation: true);
    }

    /// <summary>The part's text, when it has some (its raw JSON is more than the two quotes).</summary>
    public static bool HasText(JsonElement part, out JsonElement text) =>
        part.TryGetProperty("text", out text) && text.ValueKind == JsonValueKind.String
        && System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(text).Length > 2;

    /// <summary>A part of the answer the client sees: not a thought (Gemini's thinking, when it shows it).</summary>
    public static bool IsThought(JsonElement part) => part.TryGetProperty("thought", out var t) && t.ValueKind == JsonValueKind.True;

    public static string Id(JsonElement answer) =>
        answer.TryGetProperty("responseId", out var id) && id.ValueKind == JsonValueKind.String ? $"chatcmpl-{id.GetString()}" : $"chatcmpl-{Guid.NewGuid():N}";

    public static string Model(JsonElement answer) =>
        answer.TryGetProperty("modelVersion", out var model) && model.ValueKind == JsonValueKind.String ? model.GetString()! : "";

    /// <summary>The prompt itself was blocked: Gemini answers no candidate, only <c>promptFeedback.blockReason</c>.</summary>
    public static bool PromptBlocked(JsonElement answer) =>
        answer.TryGetProperty("promptFeedback", out var feedback) && feedback.ValueKind == JsonValueKind.Object && feedback.TryGetProperty("blockReason", out _);

    public static JsonElement Candidates(JsonElement answer) =>
        answer.TryGetProperty("candidates", out var c) && c.ValueKind == JsonValueKind.Array ? c : default;

    public static int Index(JsonElement candidate, int position) =>
        candidate.TryGetProperty("index", out var i) && i.TryGetInt32(out var index) ? index : position;

    public static JsonElement Parts(JsonElement candidate) =>
        candidate.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Object
        && content.TryGetProperty("parts", out var parts) && parts.ValueKind == JsonValueKind.Array ? parts : default;

    public static string? Reason(JsonElement candidate) =>
        candidate.TryGetProperty("finishReason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
}
