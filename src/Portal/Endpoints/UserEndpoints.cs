using System.ComponentModel;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
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
        management.MapPost("/user/new", Create).Accepts<NewUserRequest>(ApiDocument.Json)
            .WithSummary("Create a user").WithDescription("Proxy admin only. A key for the user comes with it unless auto_create_key is false.");
        management.MapGet("/user/info", Info).WithSummary("A user with their keys and teams");
        management.MapGet("/user/list", List).WithSummary("Every user, a page at a time (proxy admin)");
        management.MapPost("/user/update", Update).Accepts<UserRequest>(ApiDocument.Json)
            .WithSummary("Change a user's role, models, budget or limits (proxy admin)").WithDescription("As LiteLLM, an unknown user_id or user_email creates the user.");
        return app;
    }

    /// <summary>
    /// As LiteLLM, a key for the new user comes with it unless <c>auto_create_key</c> is false: with the user's
    /// <c>models</c>, <c>tpm_limit</c> and <c>rpm_limit</c>, no budget of its own (the user's binds it), and with
    /// <c>team_id</c> a key of that team, which the user has just joined.
    /// </summary>
    private static async Task<Ok<NewUserResponse>> Create(HttpContext http, UserService users, KeyService keys)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        var createKey = body.Bool("auto_create_key") ?? true;
        // The new key's lifetime, as LiteLLM's /user/new takes it (null: never expires).
        var duration = body.String("duration");
        var input = ReadUser(body, creating: true);
        body.RefuseUnread();
        var user = await users.NewAsync(caller, input, http.RequestAborted);
        var issued = createKey
            ? await keys.GenerateAsync(caller, new KeyInput
            {
                UserId = user.Id, TeamId = input.TeamId, Models = input.Models, TpmLimit = input.TpmLimit, RpmLimit = input.RpmLimit, Duration = duration,
            }, http.RequestAborted)
            : null;
        return TypedResults.Ok(new NewUserResponse(ApiJson.User(user)) { Key = issued?.RawKey, KeyName = issued?.Key.KeyName, TeamId = input.TeamId });
    }

    private static async Task<Ok<UserInfoResponse>> Info(HttpContext http, UserService users, string? user_id)
    {
        var view = await users.InfoAsync(http.Caller(), user_id, http.RequestAborted);
        return TypedResults.Ok(new UserInfoResponse(view.User.Id, ApiJson.User(view.User), [.. view.Keys.Select(ApiJson.Key)],
            [.. view.Teams.Select(t => new UserTeamJson(t.Team.TeamId, t.Team.TeamAlias, t.Membership.Role, [ApiJson.Membership(t.Membership)]))]));
    }

    private static async Task<Ok<UserListResponse>> List(HttpContext http, UserService users, string? page, string? page_size)
    {
        var (pageNumber, size) = Paging.Validate(page, page_size);
        var all = await users.ListAsync(http.Caller(), http.RequestAborted);
        return TypedResults.Ok(new UserListResponse([.. all.Skip((pageNumber - 1) * size).Take(size).Select(ApiJson.User)], all.Count, pageNumber, size, (all.Count + size - 1) / size));
    }

    private static async Task<Ok<UserUpdateResponse>> Update(HttpContext http, UserService users)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        var input = ReadUser(body, creating: false);
        body.RefuseUnread();
        var user = await users.UpdateAsync(caller, input, http.RequestAborted);
        return TypedResults.Ok(new UserUpdateResponse(user.Id, ApiJson.User(user)));
    }

    /// <param name="creating"><c>/user/new</c>: <c>team_id</c> joins a team (on <c>/user/update</c> it is refused: use /team/member_add).</param>
    private static UserInput ReadUser(JsonObject body, bool creating)
    {
        // aliases: handled with model aliases; teams: LiteLLM's list form, not taken (team_id is).
        body.Refuse("on users", "max_parallel_requests", "soft_budget", "model_max_budget", "teams", "aliases");
        if (!creating)
        {
            body.Refuse("on users", "team_id");
        }
        return new UserInput
        {
            UserId = body.String("user_id"),
            UserEmail = body.String("user_email"),
            UserRole = body.String("user_role"),
            TeamId = creating ? body.String("team_id") : null,
            Models = body.Strings("models"),
            MaxBudget = body.Given("max_budget", (b, n) => b.Number(n)),
            BudgetDuration = body.Given("budget_duration", (b, n) => b.String(n)),
            TpmLimit = body.Given("tpm_limit", (b, n) => b.Integer(n)),
            RpmLimit = body.Given("rpm_limit", (b, n) => b.Integer(n)),
        };
    }
}

/// <summary>The new user, and the key made for them unless auto_create_key was false.</summary>
public sealed record NewUserResponse : UserJson
{
    public NewUserResponse()
    {
    }

    public NewUserResponse(UserJson user) : base(user)
    {
    }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), Description("The raw key, shown this once.")]
    public string? Key { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? KeyName { get; init; }

    [Description("The team the user joined (team_id of the request); the new key is that team's.")]
    public string? TeamId { get; init; }
}

/// <param name="TeamMemberships">The user's membership in this team, as LiteLLM: spend in the team and litellm_budget_table.max_budget (max_budget_in_team).</param>
public sealed record UserTeamJson(string TeamId, string? TeamAlias, string Role, IReadOnlyList<TeamMembershipJson> TeamMemberships);

public sealed record UserInfoResponse(string UserId, UserJson UserInfo, IReadOnlyList<KeyJson> Keys, IReadOnlyList<UserTeamJson> Teams);

public sealed record UserListResponse(IReadOnlyList<UserJson> Users, int Total, int Page, int PageSize, int TotalPages);

public sealed record UserUpdateResponse(string UserId, UserJson Data);

/// <summary>The body of /user/update: user_id or user_email names the user.</summary>
public record UserRequest
{
    public string? UserId { get; init; }
    public string? UserEmail { get; init; }
    [Description("internal_user or proxy_admin (a proxy admin's to grant); the viewer roles are refused.")]
    public string? UserRole { get; init; }
    [Description("Global models the user's keys with an empty models list may call; [] lifts the restriction, absent keeps it.")]
    public IReadOnlyList<string>? Models { get; init; }
    [Description("USD; null removes the budget.")]
    public double? MaxBudget { get; init; }
    [Description("How often the spend resets: 1d at midnight UTC, 7d on Mondays 00:00 UTC, 1mo (or 30d) on the first of the month 00:00 UTC; other durations (30s, 30m, 12h, 2d) roll from when they were set.")]
    public string? BudgetDuration { get; init; }
    [Description("Tokens per minute across all of the user's keys; null removes it.")]
    public long? TpmLimit { get; init; }
    [Description("Requests per minute across all of the user's keys; null removes it.")]
    public long? RpmLimit { get; init; }
}

public sealed record NewUserRequest : UserRequest
{
    [Description("Join this team as a user member; the new key is a key of this team.")]
    public string? TeamId { get; init; }
    [Description("The new key's lifetime (30s, 30m, 30h, 30d); null: never expires.")]
    public string? Duration { get; init; }

    [Description("false: no key with the new user (default true).")]
    public bool? AutoCreateKey { get; init; }
}
