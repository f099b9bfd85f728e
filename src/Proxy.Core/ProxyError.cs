namespace Proxy.Core;

/// <summary>
/// A failure the caller can act on. Every surface turns it into the same answer: the REST and LLM
/// routes into the OpenAI error envelope, the portal into a readable message. The message never
/// carries a secret.
/// </summary>
public sealed class ProxyError(int status, string type, string message, string? param = null) : Exception(message)
{
    public int Status { get; } = status;
    public string Type { get; } = type;
    public string? Param { get; } = param;

    /// <summary>
    /// The message in a person's words, for the portal, where set: the REST message names API fields
    /// (<c>litellm_params.api_base</c>) and settings as LiteLLM clients expect, which a form's user does not know.
    /// </summary>
    public string? Plain { get; private set; }

    /// <summary>Sets <see cref="Plain"/>; the REST message stays as it is.</summary>
    public ProxyError InPlainWords(string plain)
    {
        Plain = plain;
        return this;
    }

    /// <summary>Response headers that belong to the refusal, e.g. <c>Retry-After</c> on a 429.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    public static ProxyError BadRequest(string message, string? param = null) => new(400, "invalid_request_error", message, param);
    public static ProxyError Unauthorized(string message) => new(401, "auth_error", message);
    public static ProxyError Forbidden(string message) => new(403, "permission_error", message);
    public static ProxyError NotFound(string message, string? param = null) => new(404, "not_found_error", message, param);
    public static ProxyError Unavailable(string message) => new(503, "service_unavailable", message);
    public static ProxyError BudgetExceeded(string message) => new(400, "budget_exceeded", message);

    /// <summary>429 with <c>Retry-After</c> in whole seconds (at least 1) and any rate-limit headers that explain it.</summary>
    public static ProxyError RateLimited(string message, TimeSpan retryAfter, IEnumerable<KeyValuePair<string, string>>? headers = null) =>
        new(429, "rate_limit_error", message)
        {
            Headers = [KeyValuePair.Create("Retry-After", Seconds(retryAfter)), .. headers ?? []],
        };

    private static string Seconds(TimeSpan t) => Math.Max(1, (int)Math.Ceiling(t.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
