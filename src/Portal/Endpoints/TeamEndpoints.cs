using System.ComponentModel;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Proxy.Core;
using Proxy.Core.Access;
using Proxy.Core.Routing;
using Proxy.Core.Teams;

namespace Portal.Endpoints;

/// <summary>docs/api.md section 3: teams and their members.</summary>
public static class TeamEndpoints
{
    public static IEndpointRouteBuilder MapTeamEndpoints(this IEndpointRouteBuilder app)
    {
        var management = app.MapManagementGroup();
        management.MapPost("/team/new", Create).Accepts<TeamRequest>(ApiDocument.Json)
            .WithSummary("Create a team").WithDescription("Proxy admin only. team_id is optional (a uuid is made); 400 if it exists.");
        management.MapGet("/team/info", Info)
            .WithSummary("A team with its keys").WithDescription("Without team_id a team key gets its own team. 404 for an unknown team, 403 for another team's key.");
        management.MapGet("/team/list", List).WithSummary("The teams the caller can see");
        management.MapPost("/team/update", Update).Accepts<TeamRequest>(ApiDocument.Json)
            .WithSummary("Change a team").WithDescription("team_id and the fields to change; absent fields are kept.");
        management.MapPost("/team/delete", Delete).Accepts<TeamDeleteRequest>(ApiDocument.Json)
            .WithSummary("Delete teams").WithDescription("Deletes the teams, their keys and their models, in one transaction. Proxy admin only.");
        management.MapPost("/team/member_add", AddMember).Accepts<MemberAddRequest>(ApiDocument.Json)
            .WithSummary("Add members").WithDescription("Unknown users are created (without a password). 400 if already a member.");
        management.MapPost("/team/member_delete", RemoveMember).Accepts<MemberDeleteRequest>(ApiDocument.Json).WithSummary("Remove a member");
        management.MapPost("/team/member_update", UpdateMember).Accepts<MemberUpdateRequest>(ApiDocument.Json)
            .WithSummary("Change a member's role or budget in the team").WithDescription("A field left out keeps its value; max_budget_in_team: null removes the budget.");
        return app;
    }

    private static async Task<Ok<TeamJson>> Create(HttpContext http, TeamService teams)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        var input = ReadTeam(body, members: true);
        body.RefuseUnread();
        var view = await teams.CreateAsync(caller, input, http.RequestAborted);
        return TypedResults.Ok(ApiJson.Team(view));
    }

    private static async Task<Ok<TeamInfoResponse>> Info(HttpContext http, TeamService teams, string? team_id)
    {
        var view = await teams.GetAsync(http.Caller(), team_id, http.RequestAborted);
        return TypedResults.Ok(new TeamInfoResponse(view.Team.TeamId, ApiJson.Team(view), [.. view.Keys.Select(ApiJson.Key)],
            [.. view.Team.Members.OrderBy(m => m.User?.Email ?? m.UserId).Select(ApiJson.Membership)]));
    }

    private static async Task<Ok<List<TeamJson>>> List(HttpContext http, TeamService teams)
    {
        var views = await teams.ListAsync(http.Caller(), http.RequestAborted);
        return TypedResults.Ok(views.Select(ApiJson.Team).ToList());
    }

    private static async Task<Ok<TeamUpdateResponse>> Update(HttpContext http, TeamService teams)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        var input = ReadTeam(body, members: true);
        body.RefuseUnread();
        if (input.TeamId is null)
        {
            throw ProxyError.BadRequest("team_id is required.", "team_id");
        }
        var view = await teams.UpdateAsync(caller, input, http.RequestAborted);
        return TypedResults.Ok(new TeamUpdateResponse(view.Team.TeamId, ApiJson.Team(view)));
    }

    private static async Task<Ok<TeamDeleteResponse>> Delete(HttpContext http, TeamService teams)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        var ids = body.Strings("team_ids") ?? throw ProxyError.BadRequest("team_ids is required: {\"team_ids\": [\"...\"]}.", "team_ids");
        body.RefuseUnread();
        var deleted = await teams.DeleteAsync(caller, ids, http.RequestAborted);
        return TypedResults.Ok(new TeamDeleteResponse(deleted));
    }

    private static async Task<Ok<MemberResponse>> AddMember(HttpContext http, TeamService teams)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        var members = body.Node("member") switch
        {
            JsonArray list => list.Select(m => m as JsonObject ?? throw ProxyError.BadRequest("member must be an object or a list of objects.", "member"))
                .Select(ReadMember).ToList(),
            JsonObject one => [ReadMember(one)],
            null => throw ProxyError.BadRequest("member is required: {\"user_id\" or \"user_email\", \"role\": \"admin\"|\"user\"}.", "member"),
            _ => throw ProxyError.BadRequest("member must be an object or a list of objects.", "member"),
        };
        // As LiteLLM, max_budget_in_team applies to every member of the call.
        var budget = body.Given("max_budget_in_team", (b, n) => b.Number(n));
        members = [.. members.Select(m => m with { MaxBudgetInTeam = budget })];
        var teamId = body.String("team_id");
        body.RefuseUnread();
        var view = await teams.AddMembersAsync(caller, teamId, members, http.RequestAborted);
        return TypedResults.Ok(new MemberResponse(view.Team.TeamId, ApiJson.Team(view)));
    }

    private static async Task<Ok<MemberResponse>> RemoveMember(HttpContext http, TeamService teams)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        var (teamId, userId, userEmail) = (body.String("team_id"), body.String("user_id"), body.String("user_email"));
        body.RefuseUnread();
        var view = await teams.RemoveMemberAsync(caller, teamId, userId, userEmail, http.RequestAborted);
        return TypedResults.Ok(new MemberResponse(view.Team.TeamId, ApiJson.Team(view)));
    }

    private static async Task<Ok<MemberResponse>> UpdateMember(HttpContext http, TeamService teams)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        body.Refuse("on team members", "tpm_limit", "rpm_limit");
        var member = new MemberInput(body.String("user_id"), body.String("user_email"), body.String("role"),
            body.Given("max_budget_in_team", (b, n) => b.Number(n)));
        var teamId = body.String("team_id");
        body.RefuseUnread();
        var view = await teams.UpdateMemberAsync(caller, teamId, member, http.RequestAborted);
        return TypedResults.Ok(new MemberResponse(view.Team.TeamId, ApiJson.Team(view)));
    }

    private static TeamInput ReadTeam(JsonObject body, bool members)
    {
        body.Refuse("on teams", "max_parallel_requests", "model_max_budget", "model_rpm_limit", "model_tpm_limit", "team_member_budget");
        return new TeamInput
        {
            TeamId = body.String("team_id"),
            TeamAlias = body.String("team_alias"),
            Models = body.Strings("models"),
            MaxBudget = body.Given("max_budget", (b, n) => b.Number(n)),
            BudgetDuration = body.Given("budget_duration", (b, n) => b.String(n)),
            TpmLimit = body.Given("tpm_limit", (b, n) => b.Integer(n)),
            RpmLimit = body.Given("rpm_limit", (b, n) => b.Integer(n)),
            SoftBudget = body.Given("soft_budget", (b, n) => b.Number(n)),
            AlertWebhookUrl = body.Given(Proxy.Core.Alerts.TeamWebhook.Field, (b, n) => b.String(n)),
            Blocked = body.Bool("blocked"),
            Metadata = body.ObjectText("metadata"),
            Tags = body.Strings("tags"),
            RouterSettings = body.Object("router_settings") is { } routing ? RouterSettings.Parse(routing) : null,
            ModelAliases = ReadNameMap(body, "model_aliases"),
            TeamMemberPermissions = body.Given("team_member_permissions", (b, n) => b.Strings(n)),
            Members = members && body.Node("members_with_roles") is not null
                ? (body.Node("members_with_roles") as JsonArray ?? throw ProxyError.BadRequest("members_with_roles must be a list of members.", "members_with_roles"))
                    .Select(m => ReadMember(m as JsonObject ?? throw ProxyError.BadRequest("members_with_roles must be a list of objects.", "members_with_roles")))
                    .ToList()
                : null,
        };
    }

    /// <summary><c>model_aliases</c> (teams) and <c>aliases</c> (keys): a JSON object of strings, read with RequestBody's readers.</summary>
    internal static Dictionary<string, string>? ReadNameMap(JsonObject body, string name) =>
        body.Object(name) is { } map
            ? map.ToDictionary(
                entry => entry.Key,
                entry => map.String(entry.Key, $"{name}.{entry.Key}") ?? throw ProxyError.BadRequest($"{name}.{entry.Key} must be a model name, not null.", name),
                StringComparer.Ordinal)
            : null;

    private static MemberInput ReadMember(JsonObject m)
    {
        var member = new MemberInput(m.String("user_id", "member.user_id"), m.String("user_email", "member.user_email"), m.String("role", "member.role"));
        m.RefuseUnread("member", "a team member");
        return member;
    }
}

/// <param name="TeamMemberships">Each member's spend and budget in the team (LiteLLM's <c>team_memberships</c>).</param>
public sealed record TeamInfoResponse(string TeamId, TeamJson TeamInfo, IReadOnlyList<KeyJson> Keys, IReadOnlyList<TeamMembershipJson> TeamMemberships);

public sealed record TeamUpdateResponse(string TeamId, TeamJson Data);

public sealed record TeamDeleteResponse(IReadOnlyList<string> DeletedTeams);

public sealed record MemberResponse(string TeamId, TeamJson UpdatedTeam);

/// <summary>The body of /team/new and /team/update: any of these fields (team_id is required by /team/update).</summary>
public sealed record TeamRequest(
    string? TeamId,
    string? TeamAlias,
    [property: Description("Public model names the team may call; empty = every global model.")] IReadOnlyList<string>? Models,
    [property: Description("Members to add with the team (/team/new) or to set (/team/update).")] IReadOnlyList<MemberInputJson>? MembersWithRoles,
    [property: Description("USD; null removes the budget.")] double? MaxBudget,
    [property: Description("How often the spend resets: 1d at midnight UTC, 7d on Mondays 00:00 UTC, 1mo (or 30d) on the first of the month 00:00 UTC; other durations (30s, 30m, 12h, 2d) roll from when they were set.")] string? BudgetDuration,
    long? TpmLimit,
    long? RpmLimit,
    bool? Blocked,
    JsonObject? Metadata,
    [property: Description("routing_strategy (simple-shuffle, least-busy or latency-based-routing), num_retries, allowed_fails, cooldown_time, fallbacks, context_window_fallbacks.")] JsonObject? RouterSettings,
    [property: Description("Name a caller sends → the model it stands for (a model the team can call); replaces the team's whole map, {} removes them.")] IReadOnlyDictionary<string, string>? ModelAliases = null,
    [property: Description("USD: an alert to the operator's and the team's webhooks when the team's spend reaches it; calls go on. null removes it.")] double? SoftBudget = null,
    [property: Description("The team's own webhook for budget alerts (not a LiteLLM field): an http(s) URL, e.g. a Slack incoming webhook, checked as a model's api_base; stored encrypted and shown masked. null removes it.")] string? AlertWebhookUrl = null,
    [property: Description("The key routes plain members may use on their own keys of the team: /key/generate, /key/update, /key/regenerate, /key/delete, and /key/info (see the team's other keys, masked). null restores the default, [\"/key/info\"].")] IReadOnlyList<string>? TeamMemberPermissions = null);

public sealed record MemberInputJson(string? UserId, string? UserEmail, [property: Description("admin or user")] string? Role);

public sealed record TeamDeleteRequest(IReadOnlyList<string> TeamIds);

/// <summary>member is one member or a list of them.</summary>
public sealed record MemberAddRequest(string TeamId, MemberInputJson Member,
    [property: Description("USD: each added member's budget in the team.")] double? MaxBudgetInTeam = null);

/// <summary>user_id or user_email names the member.</summary>
public sealed record MemberDeleteRequest(string TeamId, string? UserId, string? UserEmail);

/// <summary>user_id or user_email names the member.</summary>
public sealed record MemberUpdateRequest(string TeamId, string? UserId, string? UserEmail,
    [property: Description("admin or user; absent keeps the role.")] string? Role = null,
    [property: Description("USD: the member's budget in the team; null removes it, absent keeps it.")] double? MaxBudgetInTeam = null);
