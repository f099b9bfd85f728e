using System.Buffers;
using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Http;
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
    UsageWriter usage, TimeProvider time, ILogger<LlmProxy> log)
{
    public async Task ForwardAsync(HttpContext http, LlmRoute route, string? modelFromPath = null)
    {
        var started = Stopwatch.GetTimestamp();
        var caller = callers.FromKey(PresentedKey.From(http.Request.Headers));
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
        DeploymentEntry deployment;
        string model;
        int bodyLength;
        try
        {
            var field = ModelField.Find(buffer.AsSpan(0, length));
            model = modelFromPath ?? field.Value
                ?? throw ProxyError.BadRequest("model is required, e.g. \"model\": \"my-team-model\".", "model");
            var group = catalog.Resolve(caller, model)
                ?? throw ProxyError.BadRequest($"Invalid model name passed in model={model}. Call /v1/models to view available models for your key.", "model");
            deployment = router.Pick(group, model);
            body = ArrayPool<byte>.Shared.Rent(ModelField.MaxRewrittenLength(length, deployment.UpstreamModel));
            bodyLength = field.Rewrite(buffer.AsSpan(0, length), deployment.UpstreamModel, body);
        }
        catch
        {
            if (body is not null)
            {
                ArrayPool<byte>.Shared.Return(body);
            }
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        http.Request.Body = new MemoryStream(body, 0, bodyLength, writable: false);
        http.Request.ContentLength = bodyLength;
        var callId = Guid.NewGuid().ToString();
        var meter = new UsageMeter(http.Response.Body, http.Response);
        http.Response.Body = meter;
        ForwarderError error;
        try
        {
            error = await forwarder.SendAsync(http, deployment.ApiBase.AbsoluteUri, upstream.Invoker,
                new ForwarderRequestConfig { ActivityTimeout = deployment.Timeout }, new UpstreamTransformer(deployment, route, callId));
        }
        finally
        {
            http.Response.Body = meter.Inner;
            ArrayPool<byte>.Shared.Return(body);
        }
        meter.Complete();

        var status = error == ForwarderError.None ? http.Response.StatusCode : StatusFor(error);
        var tokens = Tokens.Of(meter, route, bodyLength, status);
        var cost = deployment.Price?.Cost(tokens.Prompt, tokens.Completion) ?? 0;
        allowance.Spent(tokens.Total, cost);
        spend.ChargeDeployment(deployment.Account, tokens.Total);
        usage.Record(new UsageRecord
        {
            CallId = callId,
            KeyHash = caller.Key?.Hash ?? caller.Actor,
            TeamId = caller.KeyTeamId,
            UserId = caller.Key?.UserId,
            Model = model,
            ModelId = deployment.ModelId,
            Deployment = deployment.UpstreamModel,
            Route = route.Operation,
            Status = status,
            PromptTokens = tokens.Prompt,
            CompletionTokens = tokens.Completion,
            TotalTokens = tokens.Total,
            TokensEstimated = tokens.Estimated,
            Spend = cost,
            LatencyMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            StartedAt = time.GetUtcNow().UtcDateTime,
        });

        if (error != ForwarderError.None)
        {
            var reason = http.Features.Get<IForwarderErrorFeature>()?.Exception is { } e ? Describe(e) : error.ToString();
            LogUpstreamFailed(model, deployment.ModelId, error, reason);
            if (!http.Response.HasStarted)
            {
                throw new ProxyError(StatusFor(error), "upstream_error", error == ForwarderError.RequestTimedOut
                    ? $"The provider of model {model} did not answer within {deployment.Timeout.TotalSeconds:0} seconds."
                    : $"The provider of model {model} could not be reached: {reason}.", "model");
            }
        }
    }

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
        var body = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new
        {
            model = deployment.UpstreamModel,
            messages = new[] { new { role = "user", content = "ping" } },
            max_tokens = 1,
        });
        var http = new DefaultHttpContext();
        http.Request.Method = HttpMethods.Post;
        http.Request.ContentType = "application/json";
        http.Request.Body = new MemoryStream(body, writable: false);
        http.Request.ContentLength = body.Length;
        var answer = new MemoryStream();
        http.Response.Body = answer;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        http.RequestAborted = timeout.Token;
        var started = Stopwatch.GetTimestamp();
        var error = await forwarder.SendAsync(http, deployment.ApiBase.AbsoluteUri, upstream.Invoker,
            new ForwarderRequestConfig { ActivityTimeout = TimeSpan.FromSeconds(30) }, new UpstreamTransformer(deployment, LlmRoute.ChatCompletions, Guid.NewGuid().ToString()));
        var elapsed = Stopwatch.GetElapsedTime(started);
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

    private static async Task<(byte[] Buffer, int Length)> ReadBodyAsync(HttpContext http)
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
