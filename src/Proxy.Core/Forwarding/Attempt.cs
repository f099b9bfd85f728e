using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Proxy.Core.Dialects;
using Proxy.Core.Dialects.Messages;
using Proxy.Core.Routing;
using Proxy.Core.Usage;
using Yarp.ReverseProxy.Forwarder;

namespace Proxy.Core.Forwarding;

/// <summary>
/// One attempt on one deployment, in three steps: <see cref="Prepare"/> the body in the deployment's dialect,
/// <see cref="SendAsync"/> it through YARP and the shared pool (also the connection probe's send), and
/// <see cref="Conclude"/>: classify how it went, tell the router, report it to <see cref="CallAccounting"/>.
/// Three calls rather than one async method around them, so that a call awaits no more state machines than it did.
/// </summary>
/// <remarks>Logs as <see cref="LlmProxy"/>: operators filter upstream failures by that category.</remarks>
public sealed partial class Attempt(IHttpForwarder forwarder, UpstreamClient upstream, Router router, CallAccounting accounting, ILogger<LlmProxy> log)
{
    /// <summary>The call's body for <paramref name="deployment"/> as the request's body, its meter and its transformer.</summary>
    internal static PreparedAttempt Prepare(Call call, string model, DeploymentEntry deployment, AttemptsLeft left, Attempted attempted)
    {
        var http = call.Http;
        var inbound = IInboundDialect.Between(call.Route, deployment.Api);
        if (inbound is null && !deployment.Api.Serves(call.Route))
        {
            var served = string.Join(", ", LlmRoute.All
                .Where(r => r.Dialect == call.Route.Dialect && (deployment.Api.Serves(r) || IInboundDialect.Between(r, deployment.Api) is not null))
                .Select(r => r.Operation));
            throw ProxyError.BadRequest($"Model {model} is served by {deployment.Provider}, which answers {served} only: /{call.Route.Operation} is not available for it.", "model");
        }
        var body = call.RewriteFor(deployment);
        http.Request.Body = new MemoryStream(call.Body!, 0, body.Length, writable: false, publiclyVisible: true);
        http.Request.ContentLength = body.Length;
        var meter = new UsageMeter(http.Features.GetRequiredFeature<IHttpResponseBodyFeature>(), http.Response);
        return new PreparedAttempt(body, meter, new UpstreamTransformer(deployment, call.Route, call.CallId, left, attempted, inbound, body.Streams));
    }

    /// <summary>
    /// Anthropic's token count for a deployment that is not Anthropic's: counted here with the model's tokenizer, as
    /// nothing upstream would count it (OpenAI has no such operation).
    /// </summary>
    internal static async Task CountTokensAsync(Call call, DeploymentEntry deployment, Attempted attempted)
    {
        int tokens;
        using (var request = JsonDocument.Parse(call.ClientBody))
        {
            tokens = TokenCount.Count(request.RootElement, deployment.UpstreamModel);
        }
        var response = call.Http.Response;
        attempted.Announce(response, deployment.ModelId, call.CallId);
        response.StatusCode = 200;
        response.ContentType = "application/json";
        await response.WriteAsync($$"""{"input_tokens":{{tokens}}}""", call.Http.RequestAborted);
    }

    /// <summary>
    /// Sends the request in <paramref name="http"/> to <paramref name="deployment"/>; its answer goes through the
    /// dialect's translation (if any) and the meter into the response. <paramref name="countsAsTraffic"/>: the
    /// deployment's in-flight count includes it (not for a probe).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    internal async ValueTask<ForwarderError> SendAsync(HttpContext http, DeploymentEntry deployment, PreparedAttempt prepared, ForwarderRequestConfig config, bool countsAsTraffic)
    {
        var meter = prepared.Meter;
        var transformer = prepared.Transformer;
        // A translating provider dialect writes OpenAI's shape into the meter, or, for a call through chat completions,
        // into the caller's dialect, which writes the caller's shape into the meter. An answer in the caller's shape goes to the meter as is.
        var inbound = transformer.Inbound?.Answer(meter, http.Response);
        var translator = deployment.Api.Translate(transformer.UpstreamRoute, inbound ?? (Stream)meter, http.Response, prepared.Body, meter);
        meter.Attach(http.Features, (Stream?)translator ?? inbound);
        ForwarderError error;
        if (countsAsTraffic)
        {
            deployment.State.Enter();
        }
        try
        {
            error = await forwarder.SendAsync(http, deployment.ApiBase.AbsoluteUri, upstream.Invoker, config, transformer);
            if (error == ForwarderError.None && transformer.HeldBack is null)
            {
                if (translator is not null)
                {
                    await translator.CompleteAsync(http.RequestAborted);
                }
                if (inbound is not null)
                {
                    await inbound.CompleteAsync(http.RequestAborted);
                }
            }
        }
        finally
        {
            if (countsAsTraffic)
            {
                deployment.State.Leave();
            }
            await meter.DetachAsync(http.Features);
            translator?.Dispose();
            inbound?.Dispose();
        }
        meter.Complete();
        return error;
    }

    /// <summary>What came of the attempt: null when its answer went to the client; otherwise how it failed.</summary>
    internal FailedAttempt? Conclude(Call call, string model, DeploymentEntry deployment, RoutingPolicy policy, PreparedAttempt prepared, ForwarderError error)
    {
        var http = call.Http;
        var transformer = prepared.Transformer;
        var failed = Classify(http, model, deployment, error, transformer);
        // The deployment's score counts every failure, also one whose answer went to the client.
        var failure = failed?.Kind ?? (transformer.Status is { } answered ? UpstreamFailures.OfStatus(answered) : UpstreamFailure.None);
        if (failure is UpstreamFailure.Retryable or UpstreamFailure.Refused)
        {
            router.Failed(deployment, policy, immediately: failure == UpstreamFailure.Refused);
        }
        var status = failed?.Status ?? (error == ForwarderError.None ? http.Response.StatusCode : UpstreamFailures.StatusOf(error));
        if (!http.RequestAborted.IsCancellationRequested)
        {
            // A client that went away says nothing of the deployment.
            if (error == ForwarderError.None && failure is not (UpstreamFailure.Retryable or UpstreamFailure.Refused) && status < 500)
            {
                router.LastCallAnswered(deployment);
            }
            else
            {
                router.LastCallFailed(deployment, Result(http, deployment, error, transformer.Status, status));
            }
        }
        var broken = error == ForwarderError.None || failed is not null ? null
            : http.RequestAborted.IsCancellationRequested ? "The caller stopped the call before the answer was complete."
            : $"The provider's answer broke off: {UpstreamFailures.Reason(http, error)}.";
        accounting.AttemptEnded(call, model, deployment, prepared.Meter, prepared.Body.Length, status, answered: failed is null,
            AttemptError.Of(status, failed?.Message ?? broken));

        if (error != ForwarderError.None && failed is null)
        {
            // The answer had started: the client has part of it, and YARP has ended the response. Never retried.
            LogUpstreamFailed(model, deployment.ModelId, error, UpstreamFailures.Reason(http, error));
        }
        if (failed is not null)
        {
            // Nothing reached the client: the next attempt starts from a clean response.
            http.Response.Clear();
            http.Features.Set<IForwarderErrorFeature>(null);
        }
        return failed;
    }

    /// <summary>How an attempt failed before anything reached the client; null when its outcome is the client's.</summary>
    private FailedAttempt? Classify(HttpContext http, string model, DeploymentEntry deployment, ForwarderError error, UpstreamTransformer transformer)
    {
        if (transformer.HeldBack is { } held)
        {
            var kind = held.Status == 400 ? UpstreamFailure.ContextWindow : UpstreamFailures.OfStatus(held.Status);
            return new FailedAttempt(model, kind, deployment, held.Status, held, null);
        }
        if (error == ForwarderError.None || http.Response.HasStarted)
        {
            return null;
        }
        var reason = UpstreamFailures.Reason(http, error);
        LogUpstreamFailed(model, deployment.ModelId, error, reason);
        // A client that went away is not retried for.
        var unreached = UpstreamFailures.IsRetryable(error) && !http.RequestAborted.IsCancellationRequested ? UpstreamFailure.Retryable : UpstreamFailure.None;
        var message = error == ForwarderError.RequestTimedOut
            ? $"The provider of model {model} did not answer within {deployment.Timeout.TotalSeconds:0} seconds."
            : $"The provider of model {model} could not be reached: {reason}.";
        return new FailedAttempt(model, unreached, deployment, UpstreamFailures.StatusOf(error), null, message);
    }

    /// <summary>A failed attempt in a few words, for the deployment's state: no answer, an answer that broke off, or an error status.</summary>
    private static (DeploymentOutcome Outcome, int Status, string Error) Result(HttpContext http, DeploymentEntry deployment, ForwarderError error, int? answered, int status) =>
        (error, answered) switch
        {
            (ForwarderError.RequestTimedOut, null) => (DeploymentOutcome.Unreachable, status, $"No answer within {deployment.Timeout.TotalSeconds:0} seconds"),
            (not ForwarderError.None, null) => (DeploymentOutcome.Unreachable, status, UpstreamFailures.Reason(http, error)),
            (not ForwarderError.None, { } started) => (DeploymentOutcome.Failing, started, $"The provider's answer ({started}) broke off: {UpstreamFailures.Reason(http, error)}"),
            _ => (DeploymentOutcome.Failing, status, $"The provider answered {status}."),
        };

    [LoggerMessage(20, LogLevel.Warning, "Upstream call for model {Model} (deployment {ModelId}) failed: {Error} ({Reason})")]
    private partial void LogUpstreamFailed(string model, string modelId, ForwarderError error, string reason);
}
