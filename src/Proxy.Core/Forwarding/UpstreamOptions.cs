namespace Proxy.Core.Forwarding;

/// <summary>The <c>Proxy:Upstreams</c> configuration section: where a model's <c>api_base</c> may point.</summary>
public sealed class UpstreamOptions
{
    public const string Section = "Proxy:Upstreams";

    /// <summary>
    /// Networks no upstream may be in. The default covers link-local addresses, where every cloud keeps its instance
    /// metadata service (169.254.169.254 and friends), and the "this host" block. Loopback and private networks stay
    /// allowed by default, because a team's own model server (vLLM, Ollama) usually lives there; add
    /// <c>10.0.0.0/8</c>, <c>127.0.0.0/8</c>, ... here to close them.
    /// </summary>
    public List<string> DeniedNetworks { get; set; } = ["169.254.0.0/16", "fe80::/10", "0.0.0.0/8", "100.100.100.200/32", "fd00:ec2::254/128"];
}
