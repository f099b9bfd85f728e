namespace Proxy.Core.Providers;

/// <summary>What an attempt sends: the body's length in the attempt's buffer, and what the client asked of a stream.</summary>
/// <param name="Streams">The call goes to the provider's streaming operation (<see cref="IProviderApi.StreamUri"/>): only
/// a provider that streams on an operation of its own sets it.</param>
/// <param name="Model">The model the answer names, when the provider's answer does not (Bedrock's); null: the answer's own.</param>
internal readonly record struct UpstreamBody(int Length, bool IncludeUsage = false, bool Streams = false, string? Model = null);
