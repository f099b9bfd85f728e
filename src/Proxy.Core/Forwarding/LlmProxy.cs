using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Proxy.Core.Access;
using Proxy.Core.Routing;
using Proxy.Core.Spend;
using Proxy.Core.Usage;
using Yarp.ReverseProxy.Forwarder;

namespace Proxy.Core.Forwarding;

/// <summary>
/// The hot path of the OpenAI-compatible routes: who is calling (from the snapshot), which deployment the model
/// means for them (from the snapshot), then one YARP forward with only <c>model</c> rewritten. No database.
/// </summary>
public sealed partial class LlmProxy(
    IHttpForwarder forwarder, UpstreamClient upstream, CallerResolver callers, ModelCatalog catalog, Router router, SpendControl spend,
    UsageWriter usage, CallMetrics metrics, TimeProvider time, ILogger<LlmProxy> log)
{
    public async Task ForwardAsync(HttpContext http, LlmRoute route, string? modelFromPath = null)
    {
        var started = Stopwatch.GetTimestamp();
        Caller? caller = null;
        string? resolved = null;
        metrics.Started();
        try
        {
            caller = callers.FromCall(http);
            if (!Rules.CanCallModels(caller))
            {
                throw ProxyError.Forbidden("This key is a management key: it cannot call models. Use a default or llm_api key.");
            }
            if (int.TryParse(http.Request.Headers[UpstreamTransformer.HopHeader], out var hops) && hops >= UpstreamTransformer.MaxHops)
            {
                throw new ProxyError(508, "upstream_error", $"This call has passed {hops} gateways: a model's api_base leads back to a gateway. Fix the model's api_base.");
            }
            using var allowance = spend.Admit(caller);
            allowance.AnnounceOn(http.Response);

            var (buffer, length) = await ReadBodyAsync(http);
            byte[]? body = null;
            try
            {
                var field = ModelField.Find(buffer.AsSpan(0, length));
                var model = modelFromPath ?? field.Value
                    ?? throw ProxyError.BadRequest("model is required, e.g. \"model\": \"my-team-model\".", "model");
                var group = catalog.Resolve(caller, model) ?? throw InvalidModel(model, "model");
                resolved = model;
                var policy = router.PolicyFor(caller.Team);
                var plan = CallPlan.For(caller, model, field.Options, policy, catalog, InvalidModel);
                var call = new Call(http, route, caller, allowance, field, buffer, length, started, model, http.TraceIdentifier);
                try
                {
                    await RouteAsync(call, model, group, plan, policy);
                }
                finally
                {
                    body = call.Body;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
                if (body is not null)
                {
                    ArrayPool<byte>.Shared.Return(body);
                }
            }
        }
        catch (ProxyError refused) when (Refused(refused, caller, resolved, started))
        {
            // Never reached: the filter counts the refusal and lets it go on to the error envelope.
        }
        finally
        {
            metrics.Ended();
        }
    }

    private bool Refused(ProxyError refused, Caller? caller, string? model, long started)
    {
        metrics.Finished(TeamLabel(caller), model ?? "", refused.Status, refused.Type, Stopwatch.GetElapsedTime(started).TotalSeconds, null, default, 0);
        return false;
    }

    private static string TeamLabel(Caller? caller) => caller?.Team?.Label ?? caller?.KeyTeamId ?? "";

    /// <summary>
    /// The attempts of one call: the deployments of its model's group in the router's order, up to its retries, then
    /// its fallbacks' groups. An attempt that failed before any byte reached the client is tried again elsewhere
    /// while the call has something left; the last one's answer (or error) is the client's.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask RouteAsync(Call call, string model, DeploymentEntry[] group, CallPlan plan, RoutingPolicy policy)
    {
        var retries = 0;
        var fallbacks = 0;
        Failed? last = null;
        while (true)
        {
            HashSet<string>? tried = null;
            var maxAttempts = 1;
            for (var attempt = 0; attempt < maxAttempts; attempt++)
            {
                var deployment = router.Pick(group, policy, tried, out var full);
                if (deployment is null)
                {
                    last = full ? new Failed(model, UpstreamFailure.NoCapacity, null, 429, null, null) : last;
                    break;
                }
                if (attempt == 0)
                {
                    maxAttempts = 1 + (call.Field.Options?.NumRetries ?? deployment.MaxRetries ?? policy.NumRetries);
                }
                // Decided before the attempt, so that its answer is held back only when the call can go on.
                var left = new AttemptsLeft(
                    Retry: attempt + 1 < maxAttempts && group.Length > (tried?.Count ?? 0) + 1,
                    Fallback: plan.HasFallback,
                    ContextWindowFallback: plan.HasContextWindowFallback);
                var failed = await AttemptAsync(call, model, deployment, policy, left, new Attempted(retries, fallbacks));
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
                await FinishAsync(call, last ?? new Failed(model, UpstreamFailure.NoCapacity, null, 429, null, null), new Attempted(retries, fallbacks));
                return;
            }
            (model, group) = fallback;
            fallbacks++;
        }
    }

    /// <summary>One attempt on one deployment. Null when its answer went to the client; otherwise how it failed.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Failed?> AttemptAsync(Call call, string model, DeploymentEntry deployment, RoutingPolicy policy, AttemptsLeft left, Attempted attempted)
    {
        var http = call.Http;
        if (!deployment.Api.Serves(call.Route))
        {
            throw ProxyError.BadRequest($"Model {model} is served by {deployment.Provider}, which answers chat/completions only: /{call.Route.Operation} is not available for it.", "model");
        }
        var body = call.RewriteFor(deployment);
        var bodyLength = body.Length;
        http.Request.Body = new MemoryStream(call.Body!, 0, bodyLength, writable: false);
        http.Request.ContentLength = bodyLength;
        var meter = new UsageMeter(http.Features.GetRequiredFeature<IHttpResponseBodyFeature>(), http.Response);
        // A translating dialect writes OpenAI's shape into the meter; an OpenAI-shaped answer goes to the meter as is.
        var translator = deployment.Api.Translate(meter, http.Response, body, meter);
        meter.Attach(http.Features, translator);
        var transformer = new UpstreamTransformer(deployment, call.Route, call.CallId, left, attempted);
        ForwarderError error;
        deployment.State.Enter();
        try
        {
            error = await forwarder.SendAsync(http, deployment.ApiBase.AbsoluteUri, upstream.Invoker, deployment.ForwarderConfig, transformer);
            if (translator is not null && error == ForwarderError.None && transformer.HeldBack is null)
            {
                await translator.CompleteAsync(http.RequestAborted);
            }
        }
        finally
        {
            deployment.State.Leave();
            await meter.DetachAsync(http.Features);
            translator?.Dispose();
        }
        meter.Complete();

        var failed = Failure(http, model, deployment, error, transformer);
        // The deployment's score counts every failure, also one whose answer went to the client.
        var failure = failed?.Kind ?? (transformer.Status is { } answered ? UpstreamFailures.OfStatus(answered) : UpstreamFailure.None);
        if (failure is UpstreamFailure.Retryable or UpstreamFailure.Refused)
        {
            router.Failed(deployment, policy, immediately: failure == UpstreamFailure.Refused);
        }
        var status = failed?.Status ?? (error == ForwarderError.None ? http.Response.StatusCode : StatusFor(error));
        var tokens = failed is null ? Tokens.Of(meter, call.Route, bodyLength, status) : default;
        var cost = deployment.Price?.Cost(tokens.Prompt, tokens.Completion) ?? 0;
        call.Allowance.Spent(tokens.Total, cost);
        spend.ChargeDeployment(deployment.Account, tokens.Total);
        var elapsed = Stopwatch.GetElapsedTime(call.Started);
        if (failed is null)
        {
            metrics.Finished(TeamLabel(call.Caller), call.Model, status, status >= 400 ? "upstream_error" : null, elapsed.TotalSeconds,
                meter.FirstByteAt == 0 ? null : Stopwatch.GetElapsedTime(call.Started, meter.FirstByteAt).TotalSeconds, tokens, cost);
        }
        usage.Record(new UsageRecord
        {
            CallId = call.CallId,
            Attempt = call.Attempts++,
            KeyHash = call.Caller.Key?.Hash ?? call.Caller.Actor,
            TeamId = call.Caller.KeyTeamId,
            UserId = call.Caller.Key?.UserId,
            Model = model,
            ModelId = deployment.ModelId,
            Deployment = deployment.UpstreamModel,
            Route = call.Route.Operation,
            Status = status,
            PromptTokens = tokens.Prompt,
            CompletionTokens = tokens.Completion,
            TotalTokens = tokens.Total,
            TokensEstimated = tokens.Estimated,
            Spend = cost,
            LatencyMs = elapsed.TotalMilliseconds,
            StartedAt = time.GetUtcNow().UtcDateTime,
        });

        if (error != ForwarderError.None && failed is null)
        {
            // The answer had started: the client has part of it, and YARP has ended the response. Never retried.
            LogUpstreamFailed(model, deployment.ModelId, error, Reason(http, error));
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
    private Failed? Failure(HttpContext http, string model, DeploymentEntry deployment, ForwarderError error, UpstreamTransformer transformer)
    {
        if (transformer.HeldBack is { } held)
        {
            var kind = held.Status == 400 ? UpstreamFailure.ContextWindow : UpstreamFailures.OfStatus(held.Status);
            return new Failed(model, kind, deployment, held.Status, held, null);
        }
        if (error == ForwarderError.None || http.Response.HasStarted)
        {
            return null;
        }
        var reason = Reason(http, error);
        LogUpstreamFailed(model, deployment.ModelId, error, reason);
        // A client that went away is not retried for.
        var kind2 = UpstreamFailures.IsRetryable(error) && !http.RequestAborted.IsCancellationRequested ? UpstreamFailure.Retryable : UpstreamFailure.None;
        var message = error == ForwarderError.RequestTimedOut
            ? $"The provider of model {model} did not answer within {deployment.Timeout.TotalSeconds:0} seconds."
            : $"The provider of model {model} could not be reached: {reason}.";
        return new Failed(model, kind2, deployment, StatusFor(error), null, message);
    }

    /// <summary>No attempt succeeded: the client gets the last provider answer held back, or the gateway's error.</summary>
    private async Task FinishAsync(Call call, Failed last, Attempted attempted)
    {
        if (last.HeldBack is { } held && last.Deployment is { } deployment)
        {
            attempted.Announce(call.Http.Response, deployment.ModelId, call.CallId);
            await deployment.Api.ForClient(held).WriteAsync(call.Http.Response, call.Http.RequestAborted);
            metrics.Finished(TeamLabel(call.Caller), call.Model, held.Status, "upstream_error", Stopwatch.GetElapsedTime(call.Started).TotalSeconds, null, default, 0);
            return;
        }
        var headers = new Dictionary<string, string>
        {
            ["x-litellm-call-id"] = call.CallId,
            ["x-litellm-attempted-retries"] = attempted.Retries.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["x-litellm-attempted-fallbacks"] = attempted.Fallbacks.ToString(System.Globalization.CultureInfo.InvariantCulture),
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

    private static string Reason(HttpContext http, ForwarderError error) =>
        http.Features.Get<IForwarderErrorFeature>()?.Exception is { } e ? Describe(e) : error.ToString();

    private static ProxyError InvalidModel(string model, string param) =>
        ProxyError.BadRequest($"Invalid model name passed in {param}={model}. Call /v1/models to view available models for your key.", param);

    /// <summary>
    /// The portal's "Test connection": a one-token chat request to the deployment through the same transformer and
    /// connection pool as real traffic. Returns what the provider said, never a key.
    /// </summary>
    public async Task<ConnectionTest> TestAsync(Caller caller, string modelId, CancellationToken ct = default)
    {
        var deployment = catalog.Deployment(modelId);
        if (deployment is null || (deployment.TeamId is { } team && !Rules.Can(caller, TeamPermission.Read, team)))
        {
            throw ProxyError.NotFound($"Model id={modelId} does not exist or is not visible to you.", "id");
        }
        if (!Rules.CanManageModel(caller, deployment.TeamId))
        {
            throw ProxyError.Forbidden("Only those who may change this model can test its connection.");
        }
        return await ProbeAsync(deployment, ct);
    }

    /// <summary>
    /// <c>GET /health</c>: a one-token call to every deployment of the models the caller may call (or of one of them),
    /// through the same forwarder as real traffic. Resolution is the LLM routes' own, so a team sees only its models.
    /// </summary>
    public async Task<IReadOnlyList<DeploymentHealth>> CheckHealthAsync(Caller caller, string? model, CancellationToken ct = default)
    {
        if (!Rules.CanCallModels(caller))
        {
            throw ProxyError.Forbidden("This key is a management key: it cannot call models, so it cannot check their health.");
        }
        var names = model is null ? catalog.CallableNames(caller) : [model];
        var deployments = names.SelectMany(name => (catalog.Resolve(caller, name) ?? throw InvalidModel(name, "model")).Select(d => (name, d))).ToList();
        var now = time.GetUtcNow().UtcDateTime;
        using var parallel = new SemaphoreSlim(4);
        return await Task.WhenAll(deployments.Select(async entry =>
        {
            await parallel.WaitAsync(ct);
            try
            {
                var test = await ProbeAsync(entry.d, ct);
                return new DeploymentHealth(entry.name, entry.d, test, entry.d.State.CooldownUntil is { } until && until > now ? until : null);
            }
            finally
            {
                parallel.Release();
            }
        }));
    }

    /// <summary>A one-token chat call to <paramref name="deployment"/>; what the provider said, never a key.</summary>
    private async Task<ConnectionTest> ProbeAsync(DeploymentEntry deployment, CancellationToken ct)
    {
        var request = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new
        {
            model = deployment.UpstreamModel,
            messages = new[] { new { role = "user", content = "ping" } },
            max_tokens = 1,
        });
        // The probe speaks the deployment's dialect like real traffic: its body and its answer are translated too.
        var buffer = ArrayPool<byte>.Shared.Rent(ModelField.MaxRewrittenLength(request.Length, deployment.UpstreamModel));
        var http = new DefaultHttpContext();
        var answer = new MemoryStream();
        var meter = new UsageMeter(new StreamResponseBodyFeature(answer), http.Response);
        try
        {
            var body = deployment.Api.WriteBody(ModelField.Find(request), request, deployment.UpstreamModel, ref buffer);
            http.Request.Method = HttpMethods.Post;
            http.Request.ContentType = "application/json";
            http.Request.Body = new MemoryStream(buffer, 0, body.Length, writable: false);
            http.Request.ContentLength = body.Length;
            using var translator = deployment.Api.Translate(meter, http.Response, body, meter);
            meter.Attach(http.Features, translator);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            http.RequestAborted = timeout.Token;
            var started = Stopwatch.GetTimestamp();
            var error = await forwarder.SendAsync(http, deployment.ApiBase.AbsoluteUri, upstream.Invoker,
                new ForwarderRequestConfig { ActivityTimeout = TimeSpan.FromSeconds(30) }, new UpstreamTransformer(deployment, LlmRoute.ChatCompletions, Guid.NewGuid().ToString()));
            if (translator is not null && error == ForwarderError.None)
            {
                await translator.CompleteAsync(timeout.Token);
            }
            return Probed(http, error, answer, Stopwatch.GetElapsedTime(started));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static ConnectionTest Probed(HttpContext http, ForwarderError error, MemoryStream answer, TimeSpan elapsed)
    {
        if (error != ForwarderError.None)
        {
            var reason = http.Features.Get<IForwarderErrorFeature>()?.Exception is { } e ? Describe(e) : error.ToString();
            return new ConnectionTest(false, StatusFor(error), $"The provider could not be reached: {reason}.", elapsed);
        }
        var status = http.Response.StatusCode;
        var text = System.Text.Encoding.UTF8.GetString(answer.GetBuffer(), 0, (int)Math.Min(answer.Length, 2000));
        return status is >= 200 and < 300
            ? new ConnectionTest(true, status, $"The provider answered {status} in {elapsed.TotalMilliseconds:0} ms.", elapsed)
            : new ConnectionTest(false, status, $"The provider answered {status}: {ProviderMessage(text)}", elapsed);
    }

    /// <summary>The provider's own error message when its body is OpenAI-shaped, else the start of the body.</summary>
    private static string ProviderMessage(string body)
    {
        try
        {
            if (System.Text.Json.Nodes.JsonNode.Parse(body)?["error"]?["message"]?.GetValue<string>() is { } message)
            {
                return message;
            }
        }
        catch (System.Text.Json.JsonException)
        {
        }
        return body.Length > 300 ? body[..300] + "…" : body;
    }

    private static int StatusFor(ForwarderError error) => error switch
    {
        ForwarderError.RequestTimedOut => (int)HttpStatusCode.GatewayTimeout,
        ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled => 499,
        _ => (int)HttpStatusCode.BadGateway,
    };

    /// <summary>The innermost reason (e.g. "Connection refused"), which names no key: api_base cannot carry credentials.</summary>
    private static string Describe(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }
        return e.Message.TrimEnd('.');
    }

    /// <summary>The request body in a pooled buffer; a ValueTask, as Kestrel usually has a small body at hand already.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<(byte[] Buffer, int Length)> ReadBodyAsync(HttpContext http)
    {
        var length = 0;
        var buffer = ArrayPool<byte>.Shared.Rent(http.Request.ContentLength is > 0 and < 1024 * 1024 ? (int)http.Request.ContentLength + 1 : 16 * 1024);
        try
        {
            int read;
            while ((read = await http.Request.Body.ReadAsync(buffer.AsMemory(length), http.RequestAborted)) > 0)
            {
                length += read;
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
            }
            return (buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    [LoggerMessage(20, LogLevel.Warning, "Upstream call for model {Model} (deployment {ModelId}) failed: {Error} ({Reason})")]
    private partial void LogUpstreamFailed(string model, string modelId, ForwarderError error, string reason);
}

public sealed record ConnectionTest(bool Succeeded, int Status, string Message, TimeSpan Elapsed);

/// <summary>One deployment's answer to a health check, and whether it is cooling down on this instance.</summary>
public sealed record DeploymentHealth(string Model, DeploymentEntry Deployment, ConnectionTest Test, DateTime? CoolingDownUntil);

/// <summary>The one pooled connection handler every upstream call shares; its connections pass <see cref="UpstreamPolicy"/>.</summary>
public sealed class UpstreamClient(UpstreamPolicy policy) : IDisposable
{
    public HttpMessageInvoker Invoker { get; } = new(new SocketsHttpHandler
    {
        ConnectCallback = policy.ConnectAsync,
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        EnableMultipleHttp2Connections = true,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ActivityHeadersPropagator = null,
    }, disposeHandler: true);

    public void Dispose() => Invoker.Dispose();
}
