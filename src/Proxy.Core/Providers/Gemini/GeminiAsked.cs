namespace Proxy.Core.Providers.Gemini;

/// <summary>What the answer's translation must know of the client's request (carried in <see cref="UpstreamBody.Asked"/>).</summary>
[Flags]
internal enum GeminiAsked
{
    None = 0,

    /// <summary><c>parallel_tool_calls: false</c>: Gemini has no such switch, so the answer keeps its first function call only.</summary>
    OneToolCall = 1,

    /// <summary><c>encoding_format: "base64"</c> (the OpenAI SDKs' default): each embedding as its little-endian float32 bytes in base64.</summary>
    Base64Embeddings = 2,
}
