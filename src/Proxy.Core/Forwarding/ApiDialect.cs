namespace Proxy.Core.Forwarding;

/// <summary>The API shape a route speaks to its caller: its body, and every error it gets (docs/api.md section 2).</summary>
public enum ApiDialect
{
    OpenAI,
    Anthropic,
}
