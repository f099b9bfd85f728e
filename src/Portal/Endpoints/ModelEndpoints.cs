using System.ComponentModel;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Proxy.Core;
using Proxy.Core.Access;
using Proxy.Core.Models;
using Proxy.Core.Routing;
using Proxy.Core.Spend;

namespace Portal.Endpoints;

/// <summary>docs/api.md section 4: model deployments, global and team-owned, and the OpenAI model list.</summary>
public static class ModelEndpoints
{
    /// <summary><c>litellm_params</c> fields the gateway understands; anything else is kept and returned as given.</summary>
    private static readonly HashSet<string> KnownParams = ["model", "custom_llm_provider", "api_key", "api_base", "api_version", "timeout", .. CloudParams.All];
    /// <summary>
    /// LiteLLM <c>litellm_params</c> and <c>model_info</c> keys that would change how LiteLLM treats the deployment but
    /// that the gateway does not act on: refused by name rather than kept and ignored. Other unknown keys are kept and
    /// returned as given (LiteLLM's extra="allow"); those the gateway acts on are in DeploymentParams and Price.
    /// </summary>
    private static readonly HashSet<string> UnsupportedParams =
    [
        "stream_timeout", "organization", "litellm_credential_name", "configurable_clientside_auth_params", "region_name",
        "watsonx_region_name", "max_parallel_requests", "drop_params",
        "max_budget", "budget_duration", "max_file_size_mb", "use_in_pass_through", "use_litellm_proxy",
        "merge_reasoning_content_in_choices", "mock_response", "s3_bucket_name", "gcs_bucket_name", "vector_store_id",
        // Bedrock credentials LiteLLM resolves itself (a profile, an assumed role, web identity): the gateway signs with the key pair given.
        "aws_profile_name", "aws_role_name", "aws_session_name", "aws_web_identity_token", "aws_sts_endpoint", "aws_external_id",
        "aws_bedrock_runtime_endpoint",
    ];
    private static readonly HashSet<string> UnsupportedInfo = ["access_groups", "tier"];
    private static readonly HashSet<string> KnownInfo = ["id", "team_id", "team_public_model_name", "db_model", "created_at", "updated_at", "created_by", "updated_by"];

    public static IEndpointRouteBuilder MapModelEndpoints(this IEndpointRouteBuilder app)
    {
        var management = app.MapManagementGroup();
        management.MapPost("/model/new", Create).Accepts<ModelRequest>(ApiDocument.Json)
            .WithSummary("Register a model").WithDescription("With model_info.team_id: a team model (proxy admin, team admin, or a non-llm_api key of that team), "
                + "stored as model_name_{team_id}_{uuid} and added to the team's alias table. Without: a global model (proxy admin). Callable at once on every instance.");
        management.MapPost("/model/update", Update).Accepts<ModelRequest>(ApiDocument.Json)
            .WithSummary("Change a model").WithDescription("model_info.id names it; a partial merge. A new api_key replaces the stored one, an absent one keeps it.");
        management.MapPatch("/model/{model_id}/update", Patch).Accepts<ModelRequest>(ApiDocument.Json).WithSummary("Change the model in the path");
        management.MapPost("/model/delete", Delete).Accepts<ModelDeleteRequest>(ApiDocument.Json)
            .WithSummary("Delete a model").WithDescription("The alias goes with the last deployment of its public name. 404 if unknown or not visible to the caller.");
        management.MapGet("/v2/model/info", Info).WithSummary("The models the caller can see, with their settings (no secrets)");
        // Open to every key that may call models, llm_api keys included (as in LiteLLM).
        app.MapGet("/model/info", Info).WithSummary("The models the caller can see, with their settings (no secrets)");
        app.MapGet("/v1/model/info", Info).WithSummary("The models the caller can see, with their settings (no secrets)");
        // The document describes OpenAI's list; with anthropic-version the same names come in Anthropic's list shape (docs/api.md section 6).
        app.MapGet("/v1/models", OpenAIList).Produces<ModelListResponse>(200).WithSummary("OpenAI's model list: the public names the caller can call");
        app.MapGet("/models", OpenAIList).Produces<ModelListResponse>(200).WithSummary("OpenAI's model list: the public names the caller can call");
        app.MapGet("/model_group/info", GroupInfo).WithSummary("LiteLLM's model groups: the names the caller can call, with providers, prices and limits");
        return app;
    }

    private static async Task<Ok<ModelJson>> Create(HttpContext http, ModelService models, PriceTable prices)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        if (body.Node("litellm_params") is null)
        {
            throw ProxyError.BadRequest("litellm_params is required, with at least litellm_params.model (e.g. \"openai/gpt-4o\").", "litellm_params");
        }
        var input = ReadModel(body);
        body.RefuseUnread();
        var deployment = await models.AddAsync(caller, input, http.RequestAborted);
        return TypedResults.Ok(ApiJson.Model(deployment, prices));
    }

    private static async Task<Ok<ModelJson>> Update(HttpContext http, ModelService models, PriceTable prices)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        var id = body.Object("model_info")?.String("id", "model_info.id")
            ?? throw ProxyError.BadRequest("model_info.id is required: the id of the model to update.", "model_info.id");
        var input = ReadModel(body);
        body.RefuseUnread();
        var deployment = await models.UpdateAsync(caller, id, input, http.RequestAborted);
        return TypedResults.Ok(ApiJson.Model(deployment, prices));
    }

    private static async Task<Ok<ModelJson>> Patch(HttpContext http, ModelService models, PriceTable prices, string model_id)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        var input = ReadModel(body);
        body.RefuseUnread();
        var deployment = await models.UpdateAsync(caller, model_id, input, http.RequestAborted);
        return TypedResults.Ok(ApiJson.Model(deployment, prices));
    }

    private static async Task<Ok<ModelDeleteResponse>> Delete(HttpContext http, ModelService models)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        var id = body.String("id") ?? throw ProxyError.BadRequest("id is required: {\"id\": \"<model_id>\"}.", "id");
        body.RefuseUnread();
        var deleted = await models.DeleteAsync(caller, id, http.RequestAborted);
        return TypedResults.Ok(new ModelDeleteResponse($"Model {deleted.ModelId} deleted.", deleted.ModelId));
    }

    private static async Task<Ok<ModelInfoResponse>> Info(HttpContext http, ModelService models, string? litellm_model_id)
    {
        var caller = http.Caller();
        var visible = litellm_model_id is null
            ? await models.ListAsync(caller, ct: http.RequestAborted)
            : [await models.GetAsync(caller, litellm_model_id, http.RequestAborted)];
        return TypedResults.Ok(new ModelInfoResponse([.. visible.Select(ApiJson.ModelInfoEntry)]));
    }

    /// <summary>
    /// Served from the route snapshot: the public names the caller can call, never internal names. An Anthropic client
    /// (it sends <c>anthropic-version</c>) gets the same names in Anthropic's list shape.
    /// </summary>
    private static IResult OpenAIList(HttpContext http, ModelCatalog catalog)
    {
        var caller = http.Caller();
        Demand.CallModels(caller, "This key is a management key: it cannot use LLM routes such as /v1/models.");
        var names = catalog.CallableNames(caller);
        if (http.Request.Headers.ContainsKey("anthropic-version"))
        {
            var created = DateTimeOffset.FromUnixTimeSeconds(1677610602);
            var models = names.Select(name => new AnthropicModelJson("model", name, name, created)).ToList();
            return TypedResults.Ok(new AnthropicModelList(models, false, models.FirstOrDefault()?.Id, models.LastOrDefault()?.Id));
        }
        return TypedResults.Ok(new ModelListResponse("list", [.. names.Select(name => new OpenAIModelJson(name, "model", 1677610602, "openai"))]));
    }

    /// <summary>The names of <c>/v1/models</c>, each with what its deployments tell about it (LiteLLM's <c>ModelGroupInfo</c>).</summary>
    private static Ok<ModelGroupInfoResponse> GroupInfo(HttpContext http, ModelCatalog catalog, string? model_group)
    {
        var caller = http.Caller();
        Demand.CallModels(caller, "This key is a management key: it cannot use LLM routes such as /model_group/info.");
        return TypedResults.Ok(new ModelGroupInfoResponse([.. catalog.CallableGroups(caller, string.IsNullOrEmpty(model_group) ? null : model_group)
            .Select(g => ModelGroupInfoJson.Of(g.Name, g.Group))]));
    }

    private static ModelInput ReadModel(JsonObject body)
    {
        var p = body.Object("litellm_params") ?? [];
        var info = body.Object("model_info") ?? [];
        RefuseUnsupported(p, "litellm_params", UnsupportedParams);
        RefuseUnsupported(info, "model_info", UnsupportedInfo);
        return new ModelInput
        {
            ModelName = body.String("model_name"),
            UpstreamModel = p.String("model", "litellm_params.model"),
            CustomLlmProvider = p.String("custom_llm_provider", "litellm_params.custom_llm_provider"),
            ApiKey = p.String("api_key", "litellm_params.api_key"),
            ApiBase = p.String("api_base", "litellm_params.api_base"),
            ApiVersion = p.String("api_version", "litellm_params.api_version"),
            TimeoutSeconds = p.Number("timeout", "litellm_params.timeout"),
            Cloud = ReadCloud(p),
            ExtraParams = Rest(p, KnownParams),
            TeamId = info.String("team_id", "model_info.team_id"),
            ModelId = info.String("id", "model_info.id"),
            ExtraInfo = Rest(info, KnownInfo),
        };
    }

    /// <summary>The cloud params given (null ones are left out); <c>vertex_credentials</c> as a JSON object or a string holding one.</summary>
    private static Dictionary<string, string>? ReadCloud(JsonObject p)
    {
        Dictionary<string, string>? given = null;
        foreach (var name in CloudParams.All)
        {
            var value = name == CloudParams.VertexCredentials
                ? p.Node(name) is { } node ? CloudParams.ServiceAccountJson(node) : null
                : p.String(name, $"litellm_params.{name}");
            if (value is not null)
            {
                (given ??= [])[name] = value;
            }
        }
        return given;
    }

    private static void RefuseUnsupported(JsonObject source, string section, HashSet<string> unsupported)
    {
        if (source.FirstOrDefault(p => p.Value is not null && (unsupported.Contains(p.Key) || p.Key.StartsWith("auto_router", StringComparison.Ordinal))) is { Key: { } name })
        {
            throw ProxyError.BadRequest($"{section}.{name} is not supported by this gateway: it is refused rather than stored and ignored. "
                + "litellm_params takes model, custom_llm_provider, api_key, api_base, api_version, timeout, rpm, tpm, weight, order, max_retries, "
                + "the cloud providers' aws_access_key_id, aws_secret_access_key, aws_session_token, aws_region_name, vertex_credentials, vertex_project, vertex_location, "
                + "input_cost_per_token, output_cost_per_token, cache_creation_input_token_cost, cache_read_input_token_cost and max_output_tokens; "
                + "model_info takes id, team_id, base_model, the same four prices and max_output_tokens (or max_tokens).", $"{section}.{name}");
        }
    }

    private static string? Rest(JsonObject source, HashSet<string> known)
    {
        var rest = new JsonObject();
        foreach (var (name, value) in source.Where(p => !known.Contains(p.Key)))
        {
            rest[name] = value?.DeepClone();
        }
        return rest.Count == 0 ? null : rest.ToJsonString();
    }
}

public sealed record ModelDeleteResponse(string Message, string ModelId);

public sealed record ModelGroupInfoResponse(IReadOnlyList<ModelGroupInfoJson> Data);

/// <summary>
/// One model group as LiteLLM's <c>/model_group/info</c> describes it. What the gateway does not know (context windows,
/// capabilities) has LiteLLM's defaults: null and false.
/// </summary>
public sealed record ModelGroupInfoJson(
    [property: Description("The public name callers send as model.")] string ModelGroup,
    [property: Description("The providers of its deployments.")] IReadOnlyList<string> Providers,
    int? MaxInputTokens,
    [property: Description("The most tokens the model answers with (the deployment's max_output_tokens, else the price table's); null when unknown.")] int? MaxOutputTokens,
    [property: Description("USD per prompt token (the deployment's own price, else the price table's); null when unknown.")] double? InputCostPerToken,
    [property: Description("USD per completion token; null when unknown.")] double? OutputCostPerToken,
    [property: Description("chat, or embedding for embedding models.")] string Mode,
    [property: Description("The sum of its deployments' litellm_params.tpm; null when none has one.")] long? Tpm,
    [property: Description("The sum of its deployments' litellm_params.rpm; null when none has one.")] long? Rpm,
    bool SupportsParallelFunctionCalling,
    bool SupportsVision,
    bool SupportsWebSearch,
    bool SupportsUrlContext,
    bool SupportsReasoning,
    bool SupportsFunctionCalling,
    IReadOnlyList<string> SupportedOpenaiParams,
    bool IsPublicModelGroup)
{
    public static ModelGroupInfoJson Of(string name, DeploymentEntry[] group)
    {
        var price = group.Select(d => d.Price).FirstOrDefault(p => p is not null);
        var limits = group.Select(d => d.Account?.Limits).OfType<Proxy.Core.Spend.Limits>().ToList();
        long? Sum(Func<Proxy.Core.Spend.Limits, long?> of) => limits.Any(l => of(l) is not null) ? limits.Sum(l => of(l) ?? 0) : null;
        var mode = group.Any(d => d.UpstreamModel.Contains("embedding", StringComparison.OrdinalIgnoreCase)) ? "embedding" : "chat";
        return new ModelGroupInfoJson(name, [.. group.Select(d => d.Provider).Distinct(StringComparer.Ordinal)], null, price?.MaxOutputTokens,
            price?.InputCostPerToken, price?.OutputCostPerToken, mode, Sum(l => l.TpmLimit), Sum(l => l.RpmLimit),
            false, false, false, false, false, false, [], false);
    }
}

public sealed record ModelInfoResponse(IReadOnlyList<ModelInfoEntryJson> Data);

public sealed record ModelListResponse(string Object, IReadOnlyList<OpenAIModelJson> Data);

public sealed record OpenAIModelJson(string Id, string Object, long Created, string OwnedBy);

/// <summary>Anthropic's model list (<c>GET /v1/models</c> with <c>anthropic-version</c>): one page with every name.</summary>
public sealed record AnthropicModelList(IReadOnlyList<AnthropicModelJson> Data, bool HasMore, string? FirstId, string? LastId);

public sealed record AnthropicModelJson(string Type, string Id, string DisplayName, DateTimeOffset CreatedAt);

/// <summary>The body of /model/new and /model/update (model_info.id names the model to update).</summary>
public sealed record ModelRequest(
    [property: Description("The public name callers send as model.")] string? ModelName,
    ModelParamsRequest? LitellmParams,
    ModelInfoRequest? ModelInfo);

/// <summary>Fields not listed here are kept and returned as given; routing fields (weight, order, rpm, tpm) act on routing.</summary>
public sealed record ModelParamsRequest(
    [property: Description("Required on /model/new: provider/model, e.g. openai/gpt-4o, azure/my-deployment, anthropic/claude-sonnet-4-5.")] string? Model,
    [property: Description("The provider, when model has no provider/ prefix.")] string? CustomLlmProvider,
    [property: Description("The provider key; stored encrypted, only ever answered masked.")] string? ApiKey,
    [property: Description("An absolute http(s) URL.")] string? ApiBase,
    [property: Description("Azure's api-version.")] string? ApiVersion,
    [property: Description("Seconds for the upstream call.")] double? Timeout,
    [property: Description("Amazon Bedrock: the AWS access key id; stored encrypted, answered masked.")] string? AwsAccessKeyId = null,
    [property: Description("Amazon Bedrock: the AWS secret access key; stored encrypted, answered masked.")] string? AwsSecretAccessKey = null,
    [property: Description("Amazon Bedrock: the session token of temporary credentials; stored encrypted, answered masked.")] string? AwsSessionToken = null,
    [property: Description("Amazon Bedrock: the region, e.g. us-east-1.")] string? AwsRegionName = null,
    [property: Description("Vertex AI: the service account's JSON key file (an object or a string); stored encrypted, answered masked.")] JsonNode? VertexCredentials = null,
    [property: Description("Vertex AI: the Google Cloud project id.")] string? VertexProject = null,
    [property: Description("Vertex AI: the location, e.g. us-central1.")] string? VertexLocation = null);

public sealed record ModelInfoRequest(
    [property: Description("/model/update: the model to change.")] string? Id,
    [property: Description("The team that owns the model; absent = a global model (proxy admin only).")] string? TeamId);

public sealed record ModelDeleteRequest(string Id);
