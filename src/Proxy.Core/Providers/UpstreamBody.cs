namespace Proxy.Core.Providers;

/// <summary>What an attempt sends: the body's length in the attempt's buffer, and what the client asked of a stream.</summary>
/// <param name="Streams">The provider is asked for a stream, at its <see cref="IProviderApi.StreamUri"/> (Gemini's <c>:streamGenerateContent</c>, Bedrock's <c>converse-stream</c>, Vertex's).</param>
/// <param name="Model">The model the answer names, when the provider's answer does not (Bedrock's); null: the answer's own.</param>
/// <param name="Asked">What the dialect's answer translator must know of the request, in the dialect's own terms (Gemini: base64 embeddings, one tool call).</param>
internal readonly record struct UpstreamBody(int Length, bool IncludeUsage = false, bool Streams = false, string? Model = null, int Asked = 0);
