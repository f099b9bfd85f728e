using Proxy.Core.Providers;
using Proxy.Core.Usage;

namespace Proxy.Core.Forwarding;

/// <summary>An attempt ready to send: the body in the deployment's dialect, the meter its answer passes, and its transformer.</summary>
internal readonly record struct PreparedAttempt(UpstreamBody Body, UsageMeter Meter, UpstreamTransformer Transformer);
