namespace Proxy.Core.Forwarding;

/// <summary>What a provider said to a one-token probe, never a key.</summary>
public sealed record ConnectionTest(bool Succeeded, int Status, string Message, TimeSpan Elapsed);
