namespace Proxy.Core.Alerts;

/// <summary>The <c>Proxy:Alerts</c> configuration section: where budget alerts go and how they are sent (docs/configuration.md).</summary>
public sealed class AlertOptions
{
    public const string Section = "Proxy:Alerts";

    /// <summary>The operator's webhook: every budget alert is POSTed here. A Slack incoming-webhook URL works as is. Null: none.</summary>
    public string? WebhookUrl { get; set; }

    /// <summary>When set, each alert carries <c>X-Gateway-Signature: sha256=&lt;hex HMAC-SHA256 of the body&gt;</c> made with it. Never logged.</summary>
    public string? Secret { get; set; }

    /// <summary>Tries per webhook and alert, the first included, before the alert is given up (with a log line).</summary>
    public int Attempts { get; set; } = 3;

    /// <summary>The wait before the second try; it doubles before each further one (1 s, 2 s, 4 s...).</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long one try waits for the webhook's answer.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A start-up error naming the setting, or null when the section is valid.</summary>
    public string? Problem() =>
        WebhookUrl is { Length: > 0 } url && !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
            ? "Proxy:Alerts:WebhookUrl must be an absolute http(s) URL."
            : Attempts is < 1 or > 10 ? "Proxy:Alerts:Attempts must be between 1 and 10."
            : RetryDelay < TimeSpan.Zero ? "Proxy:Alerts:RetryDelay must not be negative."
            : Timeout <= TimeSpan.Zero ? "Proxy:Alerts:Timeout must be positive."
            : null;
}
