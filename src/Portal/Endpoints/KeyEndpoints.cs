using System.ComponentModel;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Proxy.Core;
using Proxy.Core.Access;
using Proxy.Core.Keys;

namespace Portal.Endpoints;

/// <summary>docs/api.md section 5: virtual keys.</summary>
public static class KeyEndpoints
{
    public static IEndpointRouteBuilder MapKeyEndpoints(this IEndpointRouteBuilder app)
    {
        var management = app.MapManagementGroup();
        management.MapPost("/key/generate", Generate).Accepts<KeyRequest>(ApiDocument.Json)
            .WithSummary("Create a virtual key").WithDescription("Proxy admin, or an admin of the key's team. The raw key is in this answer only.");
        management.MapGet("/key/info", Info)
            .WithSummary("A key's settings").WithDescription("key: the raw key or its hash; the caller's own key if omitted. 404 if unknown.");
        management.MapGet("/key/list", List).WithSummary("The keys the caller can see, a page at a time");
        management.MapPost("/key/update", Update).Accepts<KeyUpdateRequest>(ApiDocument.Json)
            .WithSummary("Change a key").WithDescription("key (raw or hash) and the fields to change; absent fields are kept.");
        management.MapPost("/key/delete", Delete).Accepts<KeyDeleteRequest>(ApiDocument.Json).WithSummary("Delete keys");
        management.MapPost("/key/regenerate", Regenerate).Accepts<KeyUpdateRequest>(ApiDocument.Json)
            .WithSummary("A new raw key for a key").WithDescription("The old key is refused at once; the body may also change fields. Body optional with /key/{key}/regenerate.");
        management.MapPost("/key/{key}/regenerate", Regenerate).Accepts<KeyRequest>(ApiDocument.Json).WithSummary("A new raw key for the key in the path");
        return app;
    }

    private static async Task<Ok<IssuedKeyJson>> Generate(HttpContext http, KeyService keys)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        if (body.ContainsKey("key"))
        {
            throw ProxyError.BadRequest("key cannot be chosen: /key/generate makes a random one and shows it once. Remove key from the body.", "key");
        }
        var input = ReadKey(body);
        body.RefuseUnread();
        var issued = await keys.GenerateAsync(caller, input, http.RequestAborted);
        return TypedResults.Ok(ApiJson.IssuedKey(issued));
    }

    private static async Task<Ok<KeyInfoResponse>> Info(HttpContext http, KeyService keys, string? key)
    {
        var found = await keys.InfoAsync(http.Caller(), key, http.RequestAborted);
        // The raw key is never repeated back, not even to the caller who sent it: the masked name stands in.
        return TypedResults.Ok(new KeyInfoResponse(found.KeyName, ApiJson.Key(found)));
    }

    private static async Task<Ok<KeyListResponse>> List(HttpContext http, KeyService keys, string? team_id, string? page, string? size)
    {
        var caller = http.Caller();
        var (pageNumber, pageSize) = Paging.Validate(page, size);
        var (found, total) = await keys.ListAsync(caller, team_id, pageNumber, pageSize, http.RequestAborted);
        return TypedResults.Ok(new KeyListResponse([.. found.Select(ApiJson.Key)], total, pageNumber, (total + pageSize - 1) / pageSize));
    }

    private static async Task<Ok<KeyJson>> Update(HttpContext http, KeyService keys)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        var (key, input) = (body.String("key"), ReadKey(body));
        body.RefuseUnread();
        var updated = await keys.UpdateAsync(caller, key, input, http.RequestAborted);
        return TypedResults.Ok(ApiJson.Key(updated));
    }

    private static async Task<Ok<KeyDeleteResponse>> Delete(HttpContext http, KeyService keys)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        var (named, aliases) = (body.Strings("keys"), body.Strings("key_aliases"));
        body.RefuseUnread();
        var deleted = await keys.DeleteAsync(caller, named, aliases, http.RequestAborted);
        return TypedResults.Ok(new KeyDeleteResponse([.. deleted.Select(k => k.StartsWith("sk-", StringComparison.Ordinal) ? KeyMaterial.Mask(k) : k)]));
    }

    /// <summary><c>/key/regenerate</c> takes the key in the body; <c>/key/{key}/regenerate</c> in the path. The body is optional.</summary>
    private static async Task<Ok<IssuedKeyJson>> Regenerate(HttpContext http, KeyService keys, string? key)
    {
        var caller = http.Caller();
        var body = http.Request.ContentLength is 0 || (http.Request.ContentLength is null && !http.Request.Headers.ContainsKey("Transfer-Encoding"))
            ? new JsonObject()
            : await RequestBody.ReadAsync(http);
        var (inBody, input) = (body.String("key"), ReadKey(body));
        body.RefuseUnread();
        var issued = await keys.RegenerateAsync(caller, key ?? inBody, input, http.RequestAborted);
        return TypedResults.Ok(ApiJson.IssuedKey(issued));
    }

    private static KeyInput ReadKey(JsonObject body)
    {
        body.Refuse("on keys", "model_rpm_limit", "model_tpm_limit", "rpm_limit_type", "tpm_limit_type");
        return new KeyInput
        {
            TeamId = body.String("team_id"),
            UserId = body.String("user_id"),
            KeyAlias = body.String("key_alias"),
            Models = body.Strings("models"),
            KeyType = body.String("key_type"),
            Duration = body.String("duration"),
            MaxBudget = body.Given("max_budget", (b, n) => b.Number(n)),
            BudgetDuration = body.Given("budget_duration", (b, n) => b.String(n)),
            SoftBudget = body.Given("soft_budget", (b, n) => b.Number(n)),
            TpmLimit = body.Given("tpm_limit", (b, n) => b.Integer(n)),
            RpmLimit = body.Given("rpm_limit", (b, n) => b.Integer(n)),
            MaxParallelRequests = body.Given("max_parallel_requests", (b, n) => b.Int32(n)),
            Metadata = body.ObjectText("metadata"),
            Tags = body.Strings("tags"),
            Blocked = body.Bool("blocked"),
            Aliases = TeamEndpoints.ReadNameMap(body, "aliases"),
            ModelMaxBudget = body.Given("model_max_budget", ReadModelBudgets),
        };
    }

    /// <summary><c>model_max_budget</c>: public model name → <c>{"budget_limit": 10.0, "time_period": "1d"}</c>, each entry strict.</summary>
    private static IReadOnlyDictionary<string, ModelBudgetInput>? ReadModelBudgets(JsonObject body, string name) =>
        body.Object(name) is { } map
            ? map.ToDictionary(entry => entry.Key, entry => ReadModelBudget(map, entry.Key, $"{name}.{entry.Key}"), StringComparer.Ordinal)
            : null;

    private static ModelBudgetInput ReadModelBudget(JsonObject map, string model, string param)
    {
        var entry = map.Object(model, param)
            ?? throw ProxyError.BadRequest($"{param} must be an object such as {{\"budget_limit\": 10.0, \"time_period\": \"1d\"}}, not null.", param);
        var input = new ModelBudgetInput(entry.Number("budget_limit", $"{param}.budget_limit"), entry.String("time_period", $"{param}.time_period"));
        entry.RefuseUnread(param, "a model budget");
        return input;
    }
}

public sealed record KeyInfoResponse([property: Description("The masked key.")] string Key, KeyJson Info);

public sealed record KeyListResponse(IReadOnlyList<KeyJson> Keys, int TotalCount, int CurrentPage, int TotalPages);

[Description("Deleted keys, masked (sk-...abcd), hashes or aliases as they were named.")]
public sealed record KeyDeleteResponse(IReadOnlyList<string> DeletedKeys);

/// <summary>The body of /key/generate and /key/{key}/regenerate: the key's settings.</summary>
public record KeyRequest
{
    public string? TeamId { get; init; }
    public string? UserId { get; init; }
    public string? KeyAlias { get; init; }
    [Description("Public model names this key may call; [] = whatever the team allows.")]
    public IReadOnlyList<string>? Models { get; init; }
    [Description("default (LLM routes and management of its scope), llm_api (LLM routes only) or management (management routes only).")]
    public string? KeyType { get; init; }
    [Description("30s, 30m, 30h or 30d from now; null = never expires.")]
    public string? Duration { get; init; }
    [Description("USD; null removes the budget.")]
    public double? MaxBudget { get; init; }
    [Description("How often the spend resets: 1d at midnight UTC, 7d on Mondays 00:00 UTC, 1mo (or 30d) on the first of the month 00:00 UTC; other durations (30s, 30m, 12h, 2d) roll from when they were set.")]
    public string? BudgetDuration { get; init; }
    [Description("USD: an alert to the operator's and the team's webhooks when spend reaches it; calls go on. null removes it.")]
    public double? SoftBudget { get; init; }
    public long? TpmLimit { get; init; }
    public long? RpmLimit { get; init; }
    public int? MaxParallelRequests { get; init; }
    public JsonObject? Metadata { get; init; }
    public bool? Blocked { get; init; }
    [Description("Name the caller sends → the model it stands for (a model the key can call), applied after the team's model_aliases; replaces the key's whole map.")]
    public IReadOnlyDictionary<string, string>? Aliases { get; init; }
    [Description("A budget per public model: {\"gpt-4o\": {\"budget_limit\": 10.0, \"time_period\": \"1d\"}}; replaces the key's whole set; null removes it.")]
    public IReadOnlyDictionary<string, ModelBudgetJson>? ModelMaxBudget { get; init; }
}

/// <summary>The body of /key/update and /key/regenerate: the key, by its raw value or hash, and the settings to change.</summary>
public sealed record KeyUpdateRequest : KeyRequest
{
    [Description("The raw key or its hash.")]
    public string? Key { get; init; }
}

/// <summary>keys (raw or hashes) or key_aliases.</summary>
public sealed record KeyDeleteRequest(IReadOnlyList<string>? Keys, IReadOnlyList<string>? KeyAliases);
