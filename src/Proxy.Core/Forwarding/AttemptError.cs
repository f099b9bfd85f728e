using Microsoft.AspNetCore.WebUtilities;
using Proxy.Core.Usage;

namespace Proxy.Core.Forwarding;

/// <summary>
/// The usage log's <see cref="UsageRecord.Error"/>: the gateway's own words for a failed attempt. Built from the status
/// and the gateway's message only: a provider's error body may echo the prompt, or a key someone pasted into it.
/// </summary>
internal static class AttemptError
{
    /// <summary>Null for a success; otherwise <paramref name="gatewayMessage"/> or the status in words, cut to the column's length.</summary>
    public static string? Of(int status, string? gatewayMessage)
    {
        if (gatewayMessage is null && status < 400)
        {
            return null;
        }
        var text = gatewayMessage ?? $"The provider answered {status} {ReasonPhrases.GetReasonPhrase(status)}.".Replace(" .", ".", StringComparison.Ordinal);
        return text.Length <= UsageRecord.ErrorLength ? text : string.Concat(text.AsSpan(0, UsageRecord.ErrorLength - 1), "…");
    }
}
