using System.Text.Json.Nodes;
using Proxy.Core;
using Proxy.Core.Access;
using Proxy.Core.Keys;
using Proxy.Core.Users;

namespace Portal.Endpoints;

/// <summary>Users, as LiteLLM's <c>/user/*</c> routes: a user's role, budget and spend, their keys and teams.</summary>
public static class UserEndpoints
{
    public static IEndpointRouteBuilder MapUserEndpoints(this IEndpointRouteBuilder app)
    {
        var management = app.MapManagementGroup();
        management.MapPost("/user/new", Create);
        management.MapGet("/user/info", Info);
        management.MapGet("/user/list", List);
        management.MapPost("/user/update", Update);
        return app;
    }

    /// <summary>As LiteLLM, a key for the new user comes with it unless <c>auto_create_key</c> is false.</summary>
    private static async Task<IResult> Create(HttpContext http, UserService users, KeyService keys)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        var createKey = body.Bool("auto_create_key") ?? true;
        var user = await users.NewAsync(caller, ReadUser(body), http.RequestAborted);
        var json = ApiJson.User(user);
        if (createKey)
        {
            var issued = await keys.GenerateAsync(caller, new KeyInput { UserId = user.Id }, http.RequestAborted);
            json["key"] = issued.RawKey;
            json["key_name"] = issued.Key.KeyName;
        }
        return TypedResults.Ok(json);
    }

    private static async Task<IResult> Info(HttpContext http, UserService users, string? user_id)
    {
        var view = await users.InfoAsync(http.Caller(), user_id, http.RequestAborted);
        return TypedResults.Ok(new
        {
            user_id = view.User.Id,
            user_info = ApiJson.User(view.User),
            keys = view.Keys.Select(ApiJson.Key),
            teams = view.Teams.Select(t => new { team_id = t.Team.TeamId, team_alias = t.Team.TeamAlias, role = t.Role }),
        });
    }

    private static async Task<IResult> List(HttpContext http, UserService users, string? page, string? page_size)
    {
        var (pageNumber, size) = Paging.Validate(page, page_size);
        var all = await users.ListAsync(http.Caller(), http.RequestAborted);
        return TypedResults.Ok(new
        {
            users = all.Skip((pageNumber - 1) * size).Take(size).Select(ApiJson.User),
            total = all.Count,
            page = pageNumber,
            page_size = size,
            total_pages = (all.Count + size - 1) / size,
        });
    }

    private static async Task<IResult> Update(HttpContext http, UserService users)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        var user = await users.UpdateAsync(caller, ReadUser(body), http.RequestAborted);
        return TypedResults.Ok(new { user_id = user.Id, data = ApiJson.User(user) });
    }

    private static UserInput ReadUser(JsonObject body)
    {
        body.Refuse("on users", "tpm_limit", "rpm_limit", "max_parallel_requests", "soft_budget", "model_max_budget", "models", "teams");
        return new UserInput
        {
            UserId = body.String("user_id"),
            UserEmail = body.String("user_email"),
            UserRole = body.String("user_role"),
            MaxBudget = body.Given("max_budget", (b, n) => b.Number(n)),
            BudgetDuration = body.Given("budget_duration", (b, n) => b.String(n)),
        };
    }
}
