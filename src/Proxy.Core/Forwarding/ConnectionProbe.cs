using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Proxy.Core.Access;
using Proxy.Core.Models;
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
public sealed class ConnectionProbe(Attempt attempt, UpstreamClient upstream, UpstreamPolicy upstreams, ModelCatalog catalog, Providers.Vertex.VertexTokens vertexTokens, TimeProvider time)
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
    /// The models the provider offers, for the registration form to pick from: its list (or lists: Bedrock's models and
    /// inference profiles, Vertex AI's publishers), page by page. The credentials are the ones typed in the form (the
    /// api_key, <paramref name="cloud"/> params), or, editing <paramref name="modelId"/>, the stored ones where a field is
    /// left empty, as saving would keep them. Only those who may register models for the team may ask; the api_base and
    /// a key file's token_uri pass the same checks as a registration.
    /// </summary>
    public async Task<IReadOnlyList<string>> ProviderModelsAsync(Caller caller, string? teamId, string providerName, string? apiBase, string? apiKey, string? modelId,
        IReadOnlyDictionary<string, string>? cloud = null, CancellationToken ct = default)
    {
        Demand.ManageModel(caller, teamId);
        var provider = Provider.Named(providerName) ?? throw ProxyError.BadRequest($"Provider '{providerName}' is not supported.", "provider");
        if (!provider.ListsModels)
        {
            throw ProxyError.BadRequest($"{provider.Name} has no model list: type the deployment name.", "provider");
        }
        var stored = modelId is not null && catalog.Deployment(modelId) is { } deployment && deployment.TeamId == teamId ? deployment.Credentials : null;
        var credentials = ListingCredentials(provider, apiKey, cloud, stored);
        if (apiBase is null && provider.IsRegional && provider.RegionalBase(credentials) is null)
        {
            var region = provider.Name == Provider.Bedrock ? CloudParams.AwsRegionName : CloudParams.VertexLocation;
            throw ProxyError.BadRequest($"Enter litellm_params.{region} first: the model list is the region's.", $"litellm_params.{region}");
        }
        var baseUri = provider.BaseFor(apiBase is null ? null : upstreams.ValidApiBase(apiBase), credentials);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(ListTimeout);
        var ids = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var list in provider.Api.ModelLists(baseUri))
        {
            var page = list;
            for (var pages = 0; pages < MaxListPages; pages++)
            {
                var read = await PageAsync(provider, page, credentials, timeout.Token);
                ids.UnionWith(read.Ids);
                if (read.NextQuery is null)
                {
                    break;
                }
                page = new Uri($"{list.AbsoluteUri}{(list.Query.Length > 0 ? '&' : '?')}{read.NextQuery}");
            }
        }
        return [.. ids];
    }

    /// <summary>At most this many pages of one list are read: more models than a form can offer, and a bound on a list that never ends.</summary>
    private const int MaxListPages = 100;

    /// <summary>The typed credentials; on edit a secret left empty is the stored one (a new AWS key pair without a session token drops the stored token, as saving does).</summary>
    private DeploymentCredentials ListingCredentials(Provider provider, string? apiKey, IReadOnlyDictionary<string, string>? cloud, DeploymentCredentials? stored)
    {
        var key = string.IsNullOrEmpty(apiKey) ? stored?.ApiKey : apiKey;
        if (!provider.IsRegional)
        {
            return DeploymentCredentials.OfKey(key);
        }
        if (cloud?.Keys.FirstOrDefault(name => !provider.CloudFields.Contains(name)) is { } foreign)
        {
            throw ProxyError.BadRequest($"litellm_params.{foreign} is not a {provider.DisplayName} param.", $"litellm_params.{foreign}");
        }
        string? Given(string name) => cloud?.GetValueOrDefault(name) is { Length: > 0 } value ? (CloudParams.IsSecret(name) ? value : CloudParams.CheckedValue(name, value)) : null;
        var keyFile = Given(CloudParams.VertexCredentials);
        if (keyFile is not null)
        {
            upstreams.CheckRegistration(Providers.Vertex.ServiceAccount.Parse(keyFile).TokenUri, Providers.Vertex.ServiceAccount.Field + ".token_uri");
        }
        var newKeyPair = Given(CloudParams.AwsAccessKeyId) is not null;
        return new DeploymentCredentials
        {
            ApiKey = key,
            AwsAccessKeyId = Given(CloudParams.AwsAccessKeyId) ?? stored?.AwsAccessKeyId,
            AwsSecretAccessKey = Given(CloudParams.AwsSecretAccessKey) ?? stored?.AwsSecretAccessKey,
            AwsSessionToken = Given(CloudParams.AwsSessionToken) ?? (newKeyPair ? null : stored?.AwsSessionToken),
            AwsRegionName = Given(CloudParams.AwsRegionName) ?? stored?.AwsRegionName,
            VertexCredentials = keyFile ?? stored?.VertexCredentials,
            VertexProject = Given(CloudParams.VertexProject) ?? stored?.VertexProject,
            VertexLocation = Given(CloudParams.VertexLocation) ?? stored?.VertexLocation,
            VertexTokens = vertexTokens,
        };
    }

    /// <summary>One page of a provider's list, authenticated as its calls are (a key, a SigV4 signature, an access token).</summary>
    private async Task<ModelListPage> PageAsync(Provider provider, Uri uri, DeploymentCredentials credentials, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        HttpResponseMessage response;
        try
        {
            await provider.Api.AuthenticateAsync(request, ReadOnlyMemory<byte>.Empty, credentials, ct);
            response = await upstream.Invoker.SendAsync(request, ct);
        }
        catch (Providers.Vertex.AccessTokenFailure e)
        {
            throw new ProxyError(502, "upstream_error", $"{e.Message}.");
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            throw new ProxyError(502, "upstream_error", $"The provider could not be reached at {uri.Host}: {(e is OperationCanceledException ? "no answer within 15 seconds" : e.InnerException?.Message ?? e.Message)}.");
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var check = provider.IsRegional ? "check the credentials and the region" : "check the API key and base";
                throw new ProxyError(502, "upstream_error", $"The provider answered {(int)response.StatusCode} to GET {uri.AbsolutePath}: {check}.");
            }
            try
            {
                using var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(ct), cancellationToken: ct);
                return ModelListPage.Read(json.RootElement);
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new ProxyError(502, "upstream_error", $"The provider's answer to GET {uri.AbsolutePath} is not a model list.");
            }
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
