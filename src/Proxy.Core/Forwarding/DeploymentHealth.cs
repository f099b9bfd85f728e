using Proxy.Core.Routing;

namespace Proxy.Core.Forwarding;

/// <summary>One deployment's answer to a health check, and whether it is cooling down on this instance.</summary>
public sealed record DeploymentHealth(string Model, DeploymentEntry Deployment, ConnectionTest Test, DateTime? CoolingDownUntil);
