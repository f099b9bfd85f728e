using Proxy.Core.Routing;

namespace Proxy.Core.Forwarding;

/// <summary>How one attempt (or a whole model group) failed, with what the client gets if nothing better comes.</summary>
internal sealed record FailedAttempt(string Model, UpstreamFailure Kind, DeploymentEntry? Deployment, int Status, HeldBackAnswer? HeldBack, string? Message);
