namespace Proxy.Core.Providers;

/// <summary>What an attempt sends: the body's length in the attempt's buffer, and what the client asked of a stream.</summary>
/// <param name="Streams">The call goes to the provider's streaming operation (<see cref="IProviderApi.StreamUri"/>): only
/// a provider that streams on an operation of its own sets it.</param>
internal readonly record struct UpstreamBody(int Length, bool IncludeUsage = false, bool Streams = false);
