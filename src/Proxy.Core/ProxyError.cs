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

    public static ProxyError BadRequest(string message, string? param = null) => new(400, "invalid_request_error", message, param);
    public static ProxyError Unauthorized(string message) => new(401, "auth_error", message);
    public static ProxyError Forbidden(string message) => new(403, "permission_error", message);
    public static ProxyError NotFound(string message, string? param = null) => new(404, "not_found_error", message, param);
    public static ProxyError Unavailable(string message) => new(503, "service_unavailable", message);
}
