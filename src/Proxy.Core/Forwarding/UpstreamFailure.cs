namespace Proxy.Core.Forwarding;

/// <summary>What kind of failure an attempt met, for the decision whether to try again.</summary>
internal enum UpstreamFailure
{
    None,

    /// <summary>No connection, a timeout, or 408/429/500/502/503/504: another deployment may do better.</summary>
    Retryable,

    /// <summary>401/403/404: this deployment's key or model is wrong. Not retried in the group (it is cooled down at once); a fallback may serve.</summary>
    Refused,

    /// <summary>The provider says the prompt is longer than the model takes: only a context_window_fallback can help.</summary>
    ContextWindow,

    /// <summary>Every deployment left is at its own rpm/tpm limit.</summary>
    NoCapacity,
}
