using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Proxy.Core.Access;
using Proxy.Core.Providers;
using Proxy.Core.Routing;
using Proxy.Core.Usage;
using Yarp.ReverseProxy.Forwarder;

namespace Proxy.Core.Forwarding;

/// <summary>
/// The gateway's own calls to a provider, outside any client's call: the portal's "Test connection", <c>GET /health</c>,
/// and the provider's model list for the registration form. A probe is a one-token chat call sent by the same
/// <see cref="Attempt"/> as real traffic (transformer, dialect, connection pool), but charged to no one.
/// </summary>
public sealed class ConnectionProbe(Attempt attempt, UpstreamClient upstream, UpstreamPolicy upstreams, ModelCatalog catalog, TimeProvider time)
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ListTimeout = TimeSpan.FromSeconds(15);

    /// <summary>The portal's "Test connection": what the provider said to a probe, never a key.</summary>
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
    /// <c>GET /health</c>: a probe of every deployment of the models the caller may call (or of one of them).
    /// Resolution is the LLM routes' own, so a team sees only its models.
    /// </summary>
    public async Task<IReadOnlyList<DeploymentHealth>> CheckHealthAsync(Caller caller, string? model, CancellationToken ct = default)
    {
        Demand.CallModels(caller, "This key is a management key: it cannot call models, so it cannot check their health.");
        // A wildcard deployment has no model of its own to probe: its pattern is left out, as are its listed models.
        var names = model is null ? catalog.CallableNames(caller, expandWildcards: false).Where(name => !Routing.ModelPattern.IsPattern(name)).ToList() : [model];
        var deployments = names.SelectMany(name => (catalog.Resolve(caller, name) ?? throw LlmProxy.InvalidModel(name, "model")).Select(d => (name, d))).ToList();
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

    /// <summary>
    /// The models the provider offers (<c>GET {api_base}/models</c>), for the registration form to pick from. The key
    /// is the one typed in the form, or, editing <paramref name="modelId"/>, the stored one. Only those who may
    /// register models for the team may ask; the api_base passes the same checks as a registration.
    /// </summary>
    public async Task<IReadOnlyList<string>> ProviderModelsAsync(Caller caller, string? teamId, string providerName, string? apiBase, string? apiKey, string? modelId, CancellationToken ct = default)
    {
        Demand.ManageModel(caller, teamId);
        var provider = Provider.Named(providerName) ?? throw ProxyError.BadRequest($"Provider '{providerName}' is not supported.", "provider");
        if (!provider.ListsModels)
        {
            throw ProxyError.BadRequest($"{provider.Name} has no model list: type the deployment name.", "provider");
        }
        var baseUri = provider.BaseFor(apiBase is null ? null : upstreams.ValidApiBase(apiBase));
        var key = string.IsNullOrEmpty(apiKey) && modelId is not null && catalog.Deployment(modelId) is { } stored && stored.TeamId == teamId ? stored.ApiKey : apiKey;
        var uri = provider.Api.ModelsUri(baseUri) ?? throw ProxyError.BadRequest($"{provider.Name} has no model list: type the deployment name.", "provider");
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        await provider.Api.AuthenticateAsync(request, ReadOnlyMemory<byte>.Empty, DeploymentCredentials.OfKey(string.IsNullOrEmpty(key) ? null : key), ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(ListTimeout);
        HttpResponseMessage response;
        try
        {
            response = await upstream.Invoker.SendAsync(request, timeout.Token);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            throw new ProxyError(502, "upstream_error", $"The provider could not be reached at {baseUri.Host}: {(e is OperationCanceledException ? "no answer within 15 seconds" : e.InnerException?.Message ?? e.Message)}.");
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw new ProxyError(502, "upstream_error", $"The provider answered {(int)response.StatusCode} to GET {uri.AbsolutePath}: check the API key and base.");
            }
            return await ModelIdsAsync(response, uri, timeout.Token);
        }
    }

    /// <summary>The ids of an OpenAI-shaped model list, in order.</summary>
    private static async Task<IReadOnlyList<string>> ModelIdsAsync(HttpResponseMessage response, Uri uri, CancellationToken ct)
    {
        try
        {
            var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(ct), cancellationToken: ct);
            if (json.RootElement.TryGetProperty("models", out var gemini))
            {
                // Gemini's list: {"models": [{"name": "models/gemini-2.5-flash"}]}.
                return [.. gemini.EnumerateArray().Select(m => m.GetProperty("name").GetString()!.Replace("models/", "", StringComparison.Ordinal)).Order(StringComparer.Ordinal)];
            }
            return [.. json.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()!).Order(StringComparer.Ordinal)];
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new ProxyError(502, "upstream_error", $"The provider's model list at {uri.AbsolutePath} is not the {{\"data\": [{{\"id\": ...}}]}} it should be.");
        }
    }

    /// <summary>A one-token chat call to <paramref name="deployment"/>, in its dialect like real traffic (body and answer translated too).</summary>
    private async Task<ConnectionTest> ProbeAsync(DeploymentEntry deployment, CancellationToken ct)
    {
        var request = JsonSerializer.SerializeToUtf8Bytes(new
        {
            model = deployment.UpstreamModel,
            messages = new[] { new { role = "user", content = "ping" } },
            max_tokens = 1,
        });
        var buffer = ArrayPool<byte>.Shared.Rent(ModelField.MaxRewrittenLength(request.Length, deployment.UpstreamModel));
        var http = new DefaultHttpContext();
        var answer = new MemoryStream();
        var meter = new UsageMeter(new StreamResponseBodyFeature(answer), http.Response);
        try
        {
            var body = deployment.Api.WriteBody(LlmRoute.ChatCompletions, ModelField.Find(request), request, deployment.UpstreamModel, ref buffer);
            http.Request.Method = HttpMethods.Post;
            http.Request.ContentType = "application/json";
            http.Request.Body = new MemoryStream(buffer, 0, body.Length, writable: false, publiclyVisible: true);
            http.Request.ContentLength = body.Length;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(ProbeTimeout);
            http.RequestAborted = timeout.Token;
            var started = Stopwatch.GetTimestamp();
            var prepared = new PreparedAttempt(body, meter, new UpstreamTransformer(deployment, LlmRoute.ChatCompletions, Guid.NewGuid().ToString()));
            var error = await attempt.SendAsync(http, deployment, prepared, new ForwarderRequestConfig { ActivityTimeout = ProbeTimeout }, countsAsTraffic: false);
            var test = Probed(http, error, answer, Stopwatch.GetElapsedTime(started));
            if (!ct.IsCancellationRequested)
            {
                deployment.State.Tested(Result(http, error, test));
            }
            return test;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The test as the deployment's last test result (its state shows it in the portal).</summary>
    private DeploymentResult Result(HttpContext http, ForwarderError error, ConnectionTest test)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return error != ForwarderError.None ? DeploymentResult.Unreachable(now, error == ForwarderError.RequestTimedOut ? $"No answer within {ProbeTimeout.TotalSeconds:0} seconds" : UpstreamFailures.Reason(http, error))
            : test.Succeeded ? DeploymentResult.Answered(now, test.Status)
            : DeploymentResult.Failing(now, test.Status, test.Message);
    }

    private static ConnectionTest Probed(HttpContext http, ForwarderError error, MemoryStream answer, TimeSpan elapsed)
    {
        if (error != ForwarderError.None)
        {
            return new ConnectionTest(false, UpstreamFailures.StatusOf(error), $"The provider could not be reached: {UpstreamFailures.Reason(http, error)}.", elapsed);
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
        catch (JsonException)
        {
        }
        return body.Length > 300 ? body[..300] + "…" : body;
    }
}
