using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace Proxy.Core.Dialects.Messages;

/// <summary>
/// Anthropic's <c>/v1/messages/count_tokens</c> for a model that is not Anthropic's: the input tokens an OpenAI-shaped
/// model would count for the request once it is sent as chat messages, counted here with OpenAI's own tokenizer
/// (tiktoken's o200k_base, or cl100k_base for the models that use it).
/// <para>
/// What counts: the system prompt (a string or text blocks); each message's text blocks; a <c>tool_use</c>'s name and
/// input JSON; a <c>tool_result</c>'s content (a string, or text and image blocks); a text <c>document</c>'s text;
/// each tool definition's name, description and <c>input_schema</c> JSON. Thinking blocks, base64 or URL documents,
/// <c>tool_choice</c> and the other settings are not text the model reads as chat messages, and count nothing.
/// </para>
/// <para>
/// Per message, OpenAI's overhead as its cookbook counts it ("How to count tokens with tiktoken",
/// <c>num_tokens_from_messages</c>, cookbook.openai.com/examples/how_to_count_tokens_with_tiktoken): 3 tokens, plus
/// the role's own tokens; and 3 more for the reply's priming (<c>&lt;|start|&gt;assistant&lt;|message|&gt;</c>). A
/// user message's <c>tool_result</c> blocks are one <c>tool</c> message each, as they are sent to OpenAI.
/// </para>
/// <para>
/// An image counts <see cref="ImageTokens"/>, what OpenAI charges gpt-4o for a 1024×1024 image at the <c>auto</c>
/// detail it gets: 85 base tokens and 170 for each of its four 512-pixel tiles. Its real size is not read (that would
/// mean decoding it); a smaller image costs less (85 at low detail), a larger one up to 1105 (six tiles at 2048×768).
/// The count is for a client's context budgeting, so the estimate leans high rather than low.
/// </para>
/// <para>
/// Tool definitions are counted as their JSON, which OpenAI renders more tersely: the count is a little high with many
/// tools. The tokenizers load their vocabularies (a few MB each) on first use, once per process.
/// </para>
/// </summary>
public static class TokenCount
{
    /// <summary>The cookbook's <c>tokens_per_message</c> for the gpt-3.5-turbo-0613 and later models.</summary>
    private const int PerMessage = 3;

    /// <summary>Every reply is primed with <c>&lt;|start|&gt;assistant&lt;|message|&gt;</c>.</summary>
    private const int ReplyPriming = 3;

    /// <summary>A 1024×1024 image at detail <c>auto</c> (high) on gpt-4o: 85 + 4 tiles × 170.</summary>
    public const int ImageTokens = 85 + 4 * 170;

    private static readonly Lazy<Tokenizer> O200k = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));
    private static readonly Lazy<Tokenizer> Cl100k = new(() => TiktokenTokenizer.CreateForEncoding("cl100k_base"));

    /// <summary>
    /// The input tokens of Anthropic's Messages request <paramref name="messagesRequest"/> (model, system, messages,
    /// tools, ...) for <paramref name="upstreamModel"/> (the deployment's model, with or without its provider prefix).
    /// A part that is not of the expected shape counts nothing; the request is the caller's, checked elsewhere.
    /// </summary>
    public static int Count(JsonElement messagesRequest, string upstreamModel)
    {
        var tokenizer = TokenizerFor(upstreamModel);
        var count = ReplyPriming;
        if (messagesRequest.ValueKind != JsonValueKind.Object)
        {
            return count;
        }
        if (messagesRequest.TryGetProperty("system", out var system) && Content(tokenizer, system) is var (systemTokens, _) && systemTokens > 0)
        {
            count += Message(tokenizer, "system") + systemTokens;
        }
        if (messagesRequest.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in messages.EnumerateArray())
            {
                count += MessageTokens(tokenizer, message);
            }
        }
        if (messagesRequest.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array)
        {
            foreach (var tool in tools.EnumerateArray())
            {
                count += Text(tokenizer, tool, "name") + Text(tokenizer, tool, "description")
                    + (tool.ValueKind == JsonValueKind.Object && tool.TryGetProperty("input_schema", out var schema) ? tokenizer.CountTokens(schema.GetRawText()) : 0);
            }
        }
        return count;
    }

    /// <summary>
    /// o200k_base (gpt-4o, gpt-4.1, the o-series, gpt-5 and whatever comes next) unless the model is one of the older
    /// ones on cl100k_base: gpt-4 and gpt-4-turbo, gpt-3.5-turbo (Azure's gpt-35-turbo), the text-embedding models.
    /// </summary>
    internal static Tokenizer TokenizerFor(string upstreamModel)
    {
        var model = upstreamModel[(upstreamModel.LastIndexOf('/') + 1)..];
        bool Is(string prefix) => model.StartsWith(prefix, StringComparison.OrdinalIgnoreCase);
        var cl100k = (Is("gpt-4") && !Is("gpt-4o") && !Is("gpt-4.")) || Is("gpt-3.5") || Is("gpt-35") || Is("text-embedding-");
        return cl100k ? Cl100k.Value : O200k.Value;
    }

    /// <summary>One Anthropic message: a user message's tool results are OpenAI tool messages of their own.</summary>
    private static int MessageTokens(Tokenizer tokenizer, JsonElement message)
    {
        if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("content", out var content))
        {
            return 0;
        }
        var role = message.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : "user";
        var (tokens, toolResults) = Content(tokenizer, content);
        // The tool results go first, as tool messages answering the previous assistant message; the rest is one message.
        var count = toolResults * Message(tokenizer, "tool") + tokens;
        if (toolResults == 0 || HasOtherBlocks(content))
        {
            count += Message(tokenizer, role);
        }
        return count;
    }

    /// <summary>
    /// The tokens of a content (a string or a list of blocks), and how many of its blocks are tool results (each its
    /// own message, whose overhead the caller adds).
    /// </summary>
    private static (int Tokens, int ToolResults) Content(Tokenizer tokenizer, JsonElement content)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            return (tokenizer.CountTokens(content.GetString()!), 0);
        }
        if (content.ValueKind != JsonValueKind.Array)
        {
            return (0, 0);
        }
        var (tokens, toolResults) = (0, 0);
        foreach (var block in content.EnumerateArray())
        {
            if (block.ValueKind != JsonValueKind.Object || !block.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                continue;
            }
            switch (type.GetString())
            {
                case "text":
                    tokens += Text(tokenizer, block, "text");
                    break;
                case "image":
                    tokens += ImageTokens;
                    break;
                case "document" when block.TryGetProperty("source", out var source) && source.ValueKind == JsonValueKind.Object
                        && source.TryGetProperty("type", out var sourceType) && sourceType.ValueEquals("text"):
                    tokens += Text(tokenizer, source, "data") + Text(tokenizer, block, "title");
                    break;
                case "tool_use":
                    tokens += Text(tokenizer, block, "name")
                        + (block.TryGetProperty("input", out var input) ? tokenizer.CountTokens(input.GetRawText()) : 0);
                    break;
                case "tool_result":
                    toolResults++;
                    tokens += block.TryGetProperty("content", out var result) ? Content(tokenizer, result).Tokens : 0;
                    break;
            }
        }
        return (tokens, toolResults);
    }

    private static bool HasOtherBlocks(JsonElement content) =>
        content.ValueKind == JsonValueKind.String
        || content.EnumerateArray().Any(b => b.ValueKind == JsonValueKind.Object && b.TryGetProperty("type", out var t) && !t.ValueEquals("tool_result"));

    /// <summary>The cookbook's overhead of one message: 3 tokens and its role.</summary>
    private static int Message(Tokenizer tokenizer, string role) => PerMessage + tokenizer.CountTokens(role);

    private static int Text(Tokenizer tokenizer, JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? tokenizer.CountTokens(value.GetString()!)
            : 0;
}
