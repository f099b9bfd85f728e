namespace Proxy.Core.Usage;

/// <summary>The call log's status filter: every call, the successful ones (below 400), or the failed ones.</summary>
public enum CallOutcome
{
    Any,
    Ok,
    Error,
}
