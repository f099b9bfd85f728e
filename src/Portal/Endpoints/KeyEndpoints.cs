using System.Text.Json.Nodes;
using Proxy.Core;
using Proxy.Core.Access;
using Proxy.Core.Keys;

namespace Portal.Endpoints;

/// <summary>API.md section 5: virtual keys.</summary>
public static class KeyEndpoints
{
    public static IEndpointRouteBuilder MapKeyEndpoints(this IEndpointRouteBuilder app)
    {
        var management = app.MapManagementGroup();
        management.MapPost("/key/generate", Generate);
        management.MapGet("/key/info", Info);
        management.MapGet("/key/list", List);
        management.MapPost("/key/update", Update);
        management.MapPost("/key/delete", Delete);
        management.MapPost("/key/regenerate", Regenerate);
        management.MapPost("/key/{key}/regenerate", Regenerate);
        return app;
    }

    private static async Task<IResult> Generate(HttpContext http, KeyService keys)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        var issued = await keys.GenerateAsync(caller, ReadKey(body), http.RequestAborted);
        return TypedResults.Ok(ApiJson.IssuedKey(issued));
    }

    private static async Task<IResult> Info(HttpContext http, KeyService keys, string? key)
    {
        var found = await keys.InfoAsync(http.Caller(), key, http.RequestAborted);
        // The raw key is never repeated back, not even to the caller who sent it: the masked name stands in.
        return TypedResults.Ok(new { key = found.KeyName, info = ApiJson.Key(found) });
    }

    private static async Task<IResult> List(HttpContext http, KeyService keys, string? team_id, string? page, string? size)
    {
        var caller = http.Caller();
        var (pageNumber, pageSize) = Paging.Validate(page, size);
        var (found, total) = await keys.ListAsync(caller, team_id, pageNumber, pageSize, http.RequestAborted);
        return TypedResults.Ok(new
        {
            keys = found.Select(ApiJson.Key),
            total_count = total,
            current_page = pageNumber,
            total_pages = (total + pageSize - 1) / pageSize,
        });
    }

    private static async Task<IResult> Update(HttpContext http, KeyService keys)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        var updated = await keys.UpdateAsync(caller, body.String("key"), ReadKey(body), http.RequestAborted);
        return TypedResults.Ok(ApiJson.Key(updated));
    }

    private static async Task<IResult> Delete(HttpContext http, KeyService keys)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        var deleted = await keys.DeleteAsync(caller, body.Strings("keys"), body.Strings("key_aliases"), http.RequestAborted);
        return TypedResults.Ok(new { deleted_keys = deleted.Select(k => k.StartsWith("sk-", StringComparison.Ordinal) ? KeyMaterial.Mask(k) : k) });
    }

    /// <summary><c>/key/regenerate</c> takes the key in the body; <c>/key/{key}/regenerate</c> in the path. The body is optional.</summary>
    private static async Task<IResult> Regenerate(HttpContext http, KeyService keys, string? key)
    {
        var caller = http.Caller();
        var body = http.Request.ContentLength is 0 || (http.Request.ContentLength is null && !http.Request.Headers.ContainsKey("Transfer-Encoding"))
            ? new JsonObject()
            : await RequestBody.ReadAsync(http);
        var issued = await keys.RegenerateAsync(caller, key ?? body.String("key"), ReadKey(body), http.RequestAborted);
        return TypedResults.Ok(ApiJson.IssuedKey(issued));
    }

    private static KeyInput ReadKey(JsonObject body)
    {
        body.Refuse("on keys", "soft_budget", "model_max_budget", "model_rpm_limit", "model_tpm_limit", "rpm_limit_type", "tpm_limit_type");
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
            TpmLimit = body.Given("tpm_limit", (b, n) => b.Integer(n)),
            RpmLimit = body.Given("rpm_limit", (b, n) => b.Integer(n)),
            MaxParallelRequests = body.Given("max_parallel_requests", (b, n) => b.Int32(n)),
            Metadata = body.ObjectText("metadata"),
            Blocked = body.Bool("blocked"),
        };
    }
}
