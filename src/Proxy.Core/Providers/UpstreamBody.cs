namespace Proxy.Core.Providers;

/// <summary>What an attempt sends: the body's length in the attempt's buffer, and what the client asked of a stream.</summary>
internal readonly record struct UpstreamBody(int Length, bool IncludeUsage = false);
