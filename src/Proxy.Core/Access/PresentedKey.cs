using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Proxy.Core.Access;

/// <summary>Finds the caller's key in the headers docs/api.md section 1 names, in its order, and resolves the caller.</summary>
public static class PresentedKey
{
    /// <summary>The caller of this request, resolved once and kept for the rest of it.</summary>
    public static Caller Caller(this HttpContext http)
    {
        if (http.Items.TryGetValue(typeof(Caller), out var cached) && cached is Caller caller)
        {
            return caller;
        }
        caller = http.RequestServices.GetRequiredService<CallerResolver>().FromKey(From(http.Request.Headers));
        http.Items[typeof(Caller)] = caller;
        return caller;
    }

    /// <summary>
    /// The key as presented, within its header's value: no copy is made, and nothing of it is kept after the call.
    /// Empty when the request names no key.
    /// </summary>
    public static ReadOnlySpan<char> From(IHeaderDictionary headers)
    {
        if (headers["x-litellm-api-key"] is [{ Length: > 0 } litellm])
        {
            return StripBearer(litellm);
        }
        if (headers.Authorization is [{ Length: > 0 } authorization])
        {
            if (!authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                throw ProxyError.Unauthorized("Malformed Authorization header: expected 'Authorization: Bearer sk-...'.");
            }
            return authorization.AsSpan(7).Trim();
        }
        if (headers["api-key"] is [{ Length: > 0 } azure])
        {
            return azure.AsSpan().Trim();
        }
        return headers["x-api-key"] is [{ Length: > 0 } anthropic] ? anthropic.AsSpan().Trim() : default;
    }

    private static ReadOnlySpan<char> StripBearer(string value) =>
        value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? value.AsSpan(7).Trim() : value.AsSpan().Trim();
}
