namespace Proxy.Core.Dialects.Messages;

/// <summary>The pieces of Anthropic's message that both translations (stream and whole answer) take from a chat answer.</summary>
internal static class MessagesShape
{
    /// <summary>Anthropic's ids start with <c>msg_</c>; the chat answer's id is kept after it, so logs still match.</summary>
    public static string MessageId(string? chatId) =>
        string.IsNullOrEmpty(chatId) ? $"msg_{Guid.NewGuid():N}" : chatId.StartsWith("msg_", StringComparison.Ordinal) ? chatId : $"msg_{chatId}";

    /// <summary>
    /// Anthropic's stop reason for a chat finish reason. A matched stop sequence is <c>stop</c> in chat, as is the end of
    /// the turn: which one cannot be told, so it is <c>end_turn</c> (and <c>stop_sequence</c> null).
    /// </summary>
    public static string StopReason(string? finishReason) => finishReason switch
    {
        "length" => "max_tokens",
        "tool_calls" or "function_call" => "tool_use",
        "content_filter" => "refusal",
        _ => "end_turn",
    };

    /// <summary>A tool call id for a provider that sends none: the client needs one to answer the call.</summary>
    public static string ToolUseId() => $"toolu_{Guid.NewGuid():N}";
}
