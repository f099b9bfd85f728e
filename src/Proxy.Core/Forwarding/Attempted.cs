using Microsoft.AspNetCore.Http;

namespace Proxy.Core.Forwarding;

/// <summary>How many retries and fallbacks the call has made so far, as LiteLLM's headers report them.</summary>
internal readonly record struct Attempted(int Retries, int Fallbacks)
{
    public void Announce(HttpResponse response, string modelId, string callId)
    {
        response.Headers["x-litellm-model-id"] = modelId;
        response.Headers["x-litellm-call-id"] = callId;
        response.Headers["x-litellm-attempted-retries"] = Retries.ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["x-litellm-attempted-fallbacks"] = Fallbacks.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
