using System.Text.Json;

namespace Proxy.Core.Dialects.Responses;

/// <summary>The pieces of a Responses answer that both translations (stream and whole answer) write.</summary>
internal static class ResponsesShape
{
    /// <summary>
    /// The response object's fields (the caller opens and closes it). A chat finish reason of <c>length</c> or
    /// <c>content_filter</c> makes it <c>incomplete</c>, as the Responses API says of an answer cut short.
    /// </summary>
    public static void Response(Utf8JsonWriter w, string id, long createdAt, string model, string status, IReadOnlyList<OutputItem> items, ChatUsage? usage,
        string? finishReason = null, string? errorCode = null, string? errorMessage = null)
    {
        w.WriteString("id", id);
        w.WriteString("object", "response");
        w.WriteNumber("created_at", createdAt);
        w.WriteString("status", status);
        if (status == "failed")
        {
            w.WriteStartObject("error");
            w.WriteString("code", errorCode ?? "server_error");
            w.WriteString("message", errorMessage ?? "The provider failed to answer.");
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("error");
        }
        if (status == "incomplete")
        {
            w.WriteStartObject("incomplete_details");
            w.WriteString("reason", finishReason == "content_filter" ? "content_filter" : "max_output_tokens");
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("incomplete_details");
        }
        w.WriteString("model", model);
        w.WriteStartArray("output");
        foreach (var item in items)
        {
            Item(w, item, ItemStatus(status, item), whole: true);
        }
        w.WriteEndArray();
        if (usage is { } u)
        {
            w.WriteStartObject("usage");
            w.WriteNumber("input_tokens", u.PromptTokens);
            w.WriteStartObject("input_tokens_details");
            w.WriteNumber("cached_tokens", u.CachedTokens);
            w.WriteEndObject();
            w.WriteNumber("output_tokens", u.CompletionTokens);
            w.WriteStartObject("output_tokens_details");
            w.WriteNumber("reasoning_tokens", u.ReasoningTokens);
            w.WriteEndObject();
            w.WriteNumber("total_tokens", u.PromptTokens + u.CompletionTokens);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("usage");
        }
    }

    /// <summary>The status of a chat answer: cut short by its token limit or a content filter, or complete.</summary>
    public static string Status(string? finishReason) => finishReason is "length" or "content_filter" ? "incomplete" : "completed";

    /// <summary>
    /// An output item; <paramref name="whole"/> writes its text or arguments (as in <c>response.output_item.done</c>),
    /// otherwise it is written as it starts (as in <c>response.output_item.added</c>): no content, no arguments yet.
    /// </summary>
    public static void Item(Utf8JsonWriter w, OutputItem item, string status, bool whole)
    {
        w.WriteStartObject();
        w.WriteString("id", item.Id);
        if (item.IsCall)
        {
            w.WriteString("type", "function_call");
            w.WriteString("status", status);
            w.WriteString("arguments", whole ? item.Text.Written : []);
            w.WriteString("call_id", item.CallId);
            w.WriteString("name", item.Name);
        }
        else
        {
            w.WriteString("type", "message");
            w.WriteString("status", status);
            w.WriteString("role", "assistant");
            w.WriteStartArray("content");
            if (whole)
            {
                OutputText(w, item.Text.Written);
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    public static void OutputText(Utf8JsonWriter w, ReadOnlySpan<byte> text)
    {
        w.WriteStartObject();
        w.WriteString("type", "output_text");
        w.WriteStartArray("annotations");
        w.WriteEndArray();
        w.WriteString("text", text);
        w.WriteEndObject();
    }

    /// <summary>A failed answer's items stay as they were when it failed.</summary>
    private static string ItemStatus(string status, OutputItem item) => status != "failed" ? status : item.IsDone ? "completed" : "in_progress";
}
