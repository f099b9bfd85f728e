namespace Proxy.Core.Forwarding;

/// <summary>What a call can still do when an attempt fails, decided before the attempt: the transformer holds an answer back only if it can.</summary>
internal readonly record struct AttemptsLeft(bool Retry, bool Fallback, bool ContextWindowFallback)
{
    /// <summary>Whether a failure of this kind leads to another attempt.</summary>
    public bool After(UpstreamFailure failure) => failure switch
    {
        UpstreamFailure.Retryable => Retry || Fallback,
        UpstreamFailure.Refused => Fallback,
        UpstreamFailure.ContextWindow => ContextWindowFallback,
        _ => false,
    };
}
