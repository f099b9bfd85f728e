using System.Diagnostics;
using Proxy.Core.Access;
using Proxy.Core.Routing;
using Proxy.Core.Spend;
using Proxy.Core.Usage;

namespace Proxy.Core.Forwarding;

/// <summary>
/// Reports one fact after: what an attempt or a refused call cost and how it went, to spend (the caller's allowance
/// and the deployment's rpm/tpm account), the call metrics and the usage log. Whatever reports a call reports it here.
/// </summary>
public sealed class CallAccounting(SpendControl spend, UsageWriter usage, CallMetrics metrics, TimeProvider time)
{
    internal void CallStarted() => metrics.Started();

    internal void CallEnded() => metrics.Ended();

    /// <summary>A call refused before it reached a provider: a metric, no usage record.</summary>
    internal void Refused(Caller? caller, string? model, ProxyError refused, long started) =>
        metrics.Finished(TeamLabel(caller), model ?? "", refused.Status, refused.Type, Stopwatch.GetElapsedTime(started).TotalSeconds, null, default, 0);

    /// <summary>
    /// One attempt ended with <paramref name="status"/>. Its tokens count only when its answer went to the client
    /// (<paramref name="answered"/>); every attempt gets a usage record, but only the answered one ends the call's metric.
    /// <paramref name="error"/>: why it failed, in the gateway's words (<see cref="AttemptError"/>).
    /// </summary>
    internal void AttemptEnded(Call call, string model, DeploymentEntry deployment, UsageMeter meter, int bodyLength, int status, bool answered, string? error)
    {
        var tokens = answered && call.Route.IsAccounted ? Tokens.Of(meter, call.Route, bodyLength, status) : default;
        var cost = deployment.Price?.Cost(tokens.Prompt, tokens.Completion, tokens.CacheWrite, tokens.CacheRead) ?? 0;
        call.Allowance.Spent(tokens.Total, cost);
        spend.ChargeDeployment(deployment.Account, tokens.Total);
        var elapsed = Stopwatch.GetElapsedTime(call.Started);
        if (answered)
        {
            metrics.Finished(TeamLabel(call.Caller), call.Model, status, status >= 400 ? "upstream_error" : null, elapsed.TotalSeconds,
                meter.FirstByteAt == 0 ? null : Stopwatch.GetElapsedTime(call.Started, meter.FirstByteAt).TotalSeconds, tokens, cost);
        }
        if (!call.Route.IsAccounted)
        {
            // A free operation (Anthropic's count_tokens): access-checked like any call, but no usage row and no spend.
            return;
        }
        usage.Record(new UsageRecord
        {
            CallId = call.CallId,
            ResponseId = meter.ResponseId,
            Attempt = call.Attempts++,
            KeyHash = call.Caller.Key?.Hash ?? call.Caller.Actor,
            TeamId = call.Caller.KeyTeamId,
            UserId = call.Caller.Key?.UserId,
            Model = model,
            ModelId = deployment.ModelId,
            Deployment = deployment.UpstreamModel,
            Provider = deployment.Provider,
            Route = call.Route.Operation,
            Status = status,
            PromptTokens = tokens.Prompt,
            CompletionTokens = tokens.Completion,
            TotalTokens = tokens.Total,
            CacheReadTokens = tokens.CacheRead,
            CacheCreationTokens = tokens.CacheWrite,
            TokensEstimated = tokens.Estimated,
            Spend = cost,
            LatencyMs = elapsed.TotalMilliseconds,
            StartedAt = time.GetUtcNow().UtcDateTime,
            Error = error,
        });
    }

    /// <summary>No attempt succeeded, and the client got the last provider answer held back: the call's metric.</summary>
    internal void HeldBackSent(Call call, int status) =>
        metrics.Finished(TeamLabel(call.Caller), call.Model, status, "upstream_error", Stopwatch.GetElapsedTime(call.Started).TotalSeconds, null, default, 0);

    private static string TeamLabel(Caller? caller) => caller?.Team?.Label ?? caller?.KeyTeamId ?? "";
}
