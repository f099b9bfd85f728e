using System.Text.Json.Nodes;
using Proxy.Core;
using Proxy.Core.Access;
using Proxy.Core.Models;
using Proxy.Core.Routing;

namespace Portal.Endpoints;

/// <summary>API.md section 4: model deployments, global and team-owned, and the OpenAI model list.</summary>
public static class ModelEndpoints
{
    /// <summary><c>litellm_params</c> fields the gateway understands; anything else is kept and returned as given.</summary>
    private static readonly HashSet<string> KnownParams = ["model", "custom_llm_provider", "api_key", "api_base", "api_version", "timeout"];
    private static readonly HashSet<string> KnownInfo = ["id", "team_id", "team_public_model_name", "db_model", "created_at", "updated_at", "created_by", "updated_by"];

    public static IEndpointRouteBuilder MapModelEndpoints(this IEndpointRouteBuilder app)
    {
        var management = app.MapManagementGroup();
        management.MapPost("/model/new", Create);
        management.MapPost("/model/update", Update);
        management.MapPatch("/model/{model_id}/update", Patch);
        management.MapPost("/model/delete", Delete);
        management.MapGet("/v2/model/info", Info);
        // Open to every key that may call models, llm_api keys included (as in LiteLLM).
        app.MapGet("/model/info", Info);
        app.MapGet("/v1/model/info", Info);
        app.MapGet("/v1/models", OpenAIList);
        app.MapGet("/models", OpenAIList);
        return app;
    }

    private static async Task<IResult> Create(HttpContext http, ModelService models)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        if (body["litellm_params"] is null)
        {
            throw ProxyError.BadRequest("litellm_params is required, with at least litellm_params.model (e.g. \"openai/gpt-4o\").", "litellm_params");
        }
        var deployment = await models.AddAsync(caller, ReadModel(body), http.RequestAborted);
        return TypedResults.Ok(ApiJson.Model(deployment));
    }

    private static async Task<IResult> Update(HttpContext http, ModelService models)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        var id = body.Object("model_info")?.String("id", "model_info.id")
            ?? throw ProxyError.BadRequest("model_info.id is required: the id of the model to update.", "model_info.id");
        var deployment = await models.UpdateAsync(caller, id, ReadModel(body), http.RequestAborted);
        return TypedResults.Ok(ApiJson.Model(deployment));
    }

    private static async Task<IResult> Patch(HttpContext http, ModelService models, string model_id)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        var deployment = await models.UpdateAsync(caller, model_id, ReadModel(body), http.RequestAborted);
        return TypedResults.Ok(ApiJson.Model(deployment));
    }

    private static async Task<IResult> Delete(HttpContext http, ModelService models)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        var id = body.String("id") ?? throw ProxyError.BadRequest("id is required: {\"id\": \"<model_id>\"}.", "id");
        var deleted = await models.DeleteAsync(caller, id, http.RequestAborted);
        return TypedResults.Ok(new { message = $"Model {deleted.ModelId} deleted.", model_id = deleted.ModelId });
    }

    private static async Task<IResult> Info(HttpContext http, ModelService models, string? litellm_model_id)
    {
        var caller = http.Caller();
        var visible = litellm_model_id is null
            ? await models.ListAsync(caller, ct: http.RequestAborted)
            : [await models.GetAsync(caller, litellm_model_id, http.RequestAborted)];
        return TypedResults.Ok(new { data = visible.Select(ApiJson.ModelInfoEntry) });
    }

    /// <summary>Served from the route snapshot: the public names the caller can call, never internal names.</summary>
    private static IResult OpenAIList(HttpContext http, ModelCatalog catalog)
    {
        var caller = http.Caller();
        if (!Rules.CanCallModels(caller))
        {
            throw ProxyError.Forbidden("This key is a management key: it cannot use LLM routes such as /v1/models.");
        }
        var names = catalog.CallableNames(caller);
        return TypedResults.Ok(new
        {
            @object = "list",
            data = names.Select(name => new { id = name, @object = "model", created = 1677610602, owned_by = "openai" }),
        });
    }

    private static ModelInput ReadModel(JsonObject body)
    {
        var p = body.Object("litellm_params") ?? [];
        var info = body.Object("model_info") ?? [];
        return new ModelInput
        {
            ModelName = body.String("model_name"),
            UpstreamModel = p.String("model", "litellm_params.model"),
            CustomLlmProvider = p.String("custom_llm_provider", "litellm_params.custom_llm_provider"),
            ApiKey = p.String("api_key", "litellm_params.api_key"),
            ApiBase = p.String("api_base", "litellm_params.api_base"),
            ApiVersion = p.String("api_version", "litellm_params.api_version"),
            TimeoutSeconds = p.Number("timeout", "litellm_params.timeout"),
            ExtraParams = Rest(p, KnownParams),
            TeamId = info.String("team_id", "model_info.team_id"),
            ExtraInfo = Rest(info, KnownInfo),
        };
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
