namespace Portal.Components.Pages.Teams;

/// <summary>The gateway answered the playground's call with an error: its status and, in plain words, why.</summary>
public sealed class GatewayRefusal(int status, string message) : Exception(message)
{
    public int Status { get; } = status;

    /// <summary>A person's words for an error answer: what kind of refusal it is, then the gateway's own message.</summary>
    public static GatewayRefusal Of(int status, string? type, string? message, TimeSpan? retryAfter)
    {
        var said = string.IsNullOrWhiteSpace(message) ? $"status {status}" : message.Trim();
        var text = status switch
        {
            401 => $"The gateway did not accept this key: {said}",
            403 => $"This key may not do that: {said}",
            400 when type == "budget_exceeded" => $"Budget exceeded: {said}",
            400 => $"The gateway refused the request: {said}",
            404 => $"Not found: {said}",
            429 => $"Too many requests, a rate limit was reached{(retryAfter is { } wait ? $" (try again in {Math.Ceiling(wait.TotalSeconds):0} s)" : "")}: {said}",
            502 or 503 or 504 => $"The provider could not answer ({status}): {said}",
            >= 500 => $"The provider failed ({status}): {said}",
            _ => $"The gateway answered {status}: {said}",
        };
        return new GatewayRefusal(status, text);
    }
}
