using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Proxy.Core.Access;

/// <summary>Finds the caller's key in the headers API.md section 1 names, in its order, and resolves the caller.</summary>
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
    /// The key within a header value, per value instance: a keep-alive connection's repeated header is one string
    /// (Kestrel reuses it), so its key is one string too, and <see cref="CallerResolver"/> hashes it once.
    /// </summary>
    private static readonly ConditionalWeakTable<string, string> Keys = new();

    public static string? From(IHeaderDictionary headers)
    {
        if (headers["x-litellm-api-key"] is [{ Length: > 0 } litellm])
        {
            return Keys.GetValue(litellm, StripBearer);
        }
        if (headers.Authorization is [{ Length: > 0 } authorization])
        {
            if (!authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                throw ProxyError.Unauthorized("Malformed Authorization header: expected 'Authorization: Bearer sk-...'.");
            }
            return Keys.GetValue(authorization, static value => value[7..].Trim());
        }
        if (headers["api-key"] is [{ Length: > 0 } azure])
        {
            return azure.Trim();
        }
        return headers["x-api-key"] is [{ Length: > 0 } anthropic] ? anthropic.Trim() : null;
    }

    private static string StripBearer(string value) =>
        value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? value[7..].Trim() : value.Trim();
}
