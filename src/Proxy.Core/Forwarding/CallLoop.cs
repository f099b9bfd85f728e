using System.Globalization;
using System.Runtime.CompilerServices;
using Proxy.Core.Dialects;
using Proxy.Core.Routing;
using Proxy.Core.Spend;

namespace Proxy.Core.Forwarding;

/// <summary>
/// The attempts of one call: the deployments of its model's group in the router's order, up to its retries, then
/// its fallbacks' groups. An attempt that failed before any byte reached the client is tried again elsewhere
/// while the call has something left; the last one's answer (or error) is the client's.
/// </summary>
public sealed class CallLoop(Attempt attempt, Router router, SpendControl spend, CallAccounting accounting)
{
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    internal async ValueTask RouteAsync(Call call, string model, DeploymentEntry[] group, CallPlan plan, RoutingPolicy policy)
    {
        var retries = 0;
        var fallbacks = 0;
        FailedAttempt? last = null;
        while (true)
        {
            HashSet<string>? tried = null;
            var maxAttempts = 1;
            for (var n = 0; n < maxAttempts; n++)
            {
                var deployment = router.Pick(group, policy, tried, out var full);
                if (deployment is null)
                {
                    last = full ? new FailedAttempt(model, UpstreamFailure.NoCapacity, null, 429, null, null) : last;
                    break;
                }
                if (n == 0)
                {
                    maxAttempts = 1 + (call.Field.Options?.NumRetries ?? deployment.MaxRetries ?? policy.NumRetries);
                }
                if (call.Route == LlmRoute.MessagesCountTokens && !deployment.Api.Serves(call.Route))
                {
                    await Attempt.CountTokensAsync(call, deployment, new Attempted(retries, fallbacks));
                    return;
                }
                if (call.Route.IsAccounted)
                {
                    spend.Reserve(call.Allowance, call.Caller, model, deployment.Price, call.ClientBody.Span, call.Route.EstimatesTokens);
                }
                // Decided before the attempt, so that its answer is held back only when the call can go on.
                var left = new AttemptsLeft(
                    Retry: n + 1 < maxAttempts && group.Length > (tried?.Count ?? 0) + 1,
                    Fallback: plan.HasFallback,
                    ContextWindowFallback: plan.HasContextWindowFallback);
                var prepared = Attempt.Prepare(call, model, deployment, left, new Attempted(retries, fallbacks));
                var error = await attempt.SendAsync(call.Http, deployment, prepared, deployment.ForwarderConfig, countsAsTraffic: true);
                var failed = attempt.Conclude(call, model, deployment, policy, prepared, error);
                if (failed is null)
                {
                    return;
                }
                last = failed;
                if (failed.Kind != UpstreamFailure.Retryable || !left.Retry)
                {
                    break;
                }
                (tried ??= new HashSet<string>(StringComparer.Ordinal)).Add(deployment.ModelId);
                retries++;
            }
            if (last is null || plan.Next(last.Kind) is not { } fallback)
            {
                await FinishAsync(call, last ?? new FailedAttempt(model, UpstreamFailure.NoCapacity, null, 429, null, null), new Attempted(retries, fallbacks));
                return;
            }
            (model, group) = fallback;
            fallbacks++;
        }
    }

    /// <summary>A provider's error in the caller's dialect: as sent when it already is, else through OpenAI's shape.</summary>
    private static HeldBackAnswer ForClient(LlmRoute route, DeploymentEntry deployment, HeldBackAnswer held) =>
        IInboundDialect.Between(route, deployment.Api) is { } inbound ? inbound.ForClient(deployment.Api.ForClient(held))
        : route.Dialect == ApiDialect.Anthropic
            ? deployment.Api is Providers.Vertex.VertexClaudeApi && Providers.Vertex.VertexMessagesAnswer.AsAnthropicError(held.Status, held.Body) is { } anthropic
                ? held with { Body = anthropic, ContentType = "application/json" } : held
        : deployment.Api.ForClient(held);

    /// <summary>No attempt succeeded: the client gets the last provider answer held back, or the gateway's error.</summary>
    private async Task FinishAsync(Call call, FailedAttempt last, Attempted attempted)
    {
        if (last.HeldBack is { } held && last.Deployment is { } deployment)
        {
            attempted.Announce(call.Http.Response, deployment.ModelId, call.CallId);
            await ForClient(call.Route, deployment, held).WriteAsync(call.Http.Response, call.Http.RequestAborted);
            accounting.HeldBackSent(call, held.Status);
            return;
        }
        var headers = new Dictionary<string, string>
        {
            ["x-litellm-call-id"] = call.CallId,
            ["x-litellm-attempted-retries"] = attempted.Retries.ToString(CultureInfo.InvariantCulture),
            ["x-litellm-attempted-fallbacks"] = attempted.Fallbacks.ToString(CultureInfo.InvariantCulture),
        };
        if (last.Deployment is { } tried)
        {
            headers["x-litellm-model-id"] = tried.ModelId;
        }
        throw last.Kind == UpstreamFailure.NoCapacity
            ? ProxyError.RateLimited(
                $"Every deployment of model {last.Model} is at its rpm/tpm limit (litellm_params.rpm / tpm). Retry after {SpendControl.Seconds(spend.UntilNextWindow)} s.",
                spend.UntilNextWindow, headers)
            : new ProxyError(last.Status, "upstream_error", last.Message!, "model") { Headers = [.. headers] };
    }
}
