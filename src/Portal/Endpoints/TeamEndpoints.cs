using System.Text.Json.Nodes;
using Proxy.Core;
using Proxy.Core.Access;
using Proxy.Core.Routing;
using Proxy.Core.Teams;

namespace Portal.Endpoints;

/// <summary>API.md section 3: teams and their members.</summary>
public static class TeamEndpoints
{
    public static IEndpointRouteBuilder MapTeamEndpoints(this IEndpointRouteBuilder app)
    {
        var management = app.MapManagementGroup();
        management.MapPost("/team/new", Create);
        management.MapGet("/team/info", Info);
        management.MapGet("/team/list", List);
        management.MapPost("/team/update", Update);
        management.MapPost("/team/delete", Delete);
        management.MapPost("/team/member_add", AddMember);
        management.MapPost("/team/member_delete", RemoveMember);
        management.MapPost("/team/member_update", UpdateMember);
        return app;
    }

    private static async Task<IResult> Create(HttpContext http, TeamService teams)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        var view = await teams.CreateAsync(caller, ReadTeam(body, members: true), http.RequestAborted);
        return TypedResults.Ok(ApiJson.Team(view));
    }

    private static async Task<IResult> Info(HttpContext http, TeamService teams, string? team_id)
    {
        var view = await teams.GetAsync(http.Caller(), team_id, http.RequestAborted);
        return TypedResults.Ok(new
        {
            team_id = view.Team.TeamId,
            team_info = ApiJson.Team(view),
            keys = view.Keys.Select(ApiJson.Key),
        });
    }

    private static async Task<IResult> List(HttpContext http, TeamService teams)
    {
        var views = await teams.ListAsync(http.Caller(), http.RequestAborted);
        return TypedResults.Ok(views.Select(ApiJson.Team));
    }

    private static async Task<IResult> Update(HttpContext http, TeamService teams)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        var input = ReadTeam(body, members: true);
        if (input.TeamId is null)
        {
            throw ProxyError.BadRequest("team_id is required.", "team_id");
        }
        var view = await teams.UpdateAsync(caller, input, http.RequestAborted);
        return TypedResults.Ok(new { team_id = view.Team.TeamId, data = ApiJson.Team(view) });
    }

    private static async Task<IResult> Delete(HttpContext http, TeamService teams)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        var ids = body.Strings("team_ids") ?? throw ProxyError.BadRequest("team_ids is required: {\"team_ids\": [\"...\"]}.", "team_ids");
        var deleted = await teams.DeleteAsync(caller, ids, http.RequestAborted);
        return TypedResults.Ok(new { deleted_teams = deleted });
    }

    private static async Task<IResult> AddMember(HttpContext http, TeamService teams)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        var members = body["member"] switch
        {
            JsonArray list => list.Select(m => m as JsonObject ?? throw ProxyError.BadRequest("member must be an object or a list of objects.", "member"))
                .Select(ReadMember).ToList(),
            JsonObject one => [ReadMember(one)],
            null => throw ProxyError.BadRequest("member is required: {\"user_id\" or \"user_email\", \"role\": \"admin\"|\"user\"}.", "member"),
            _ => throw ProxyError.BadRequest("member must be an object or a list of objects.", "member"),
        };
        var view = await teams.AddMembersAsync(caller, body.String("team_id"), members, http.RequestAborted);
        return TypedResults.Ok(new { team_id = view.Team.TeamId, updated_team = ApiJson.Team(view) });
    }

    private static async Task<IResult> RemoveMember(HttpContext http, TeamService teams)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        var view = await teams.RemoveMemberAsync(caller, body.String("team_id"), body.String("user_id"), body.String("user_email"), http.RequestAborted);
        return TypedResults.Ok(new { team_id = view.Team.TeamId, updated_team = ApiJson.Team(view) });
    }

    private static async Task<IResult> UpdateMember(HttpContext http, TeamService teams)
    {
        var caller = http.Caller();
        var body = await RequestBody.ReadAsync(http);
        var member = new MemberInput(body.String("user_id"), body.String("user_email"),
            body.String("role") ?? throw ProxyError.BadRequest("role is required: \"admin\" or \"user\".", "role"));
        var view = await teams.UpdateMemberAsync(caller, body.String("team_id"), member, http.RequestAborted);
        return TypedResults.Ok(new { team_id = view.Team.TeamId, updated_team = ApiJson.Team(view) });
    }

    private static TeamInput ReadTeam(JsonObject body, bool members)
    {
        body.Refuse("on teams", "max_parallel_requests", "soft_budget", "model_max_budget", "model_rpm_limit", "model_tpm_limit", "team_member_budget");
        return new TeamInput
        {
            TeamId = body.String("team_id"),
            TeamAlias = body.String("team_alias"),
            Models = body.Strings("models"),
            MaxBudget = body.Given("max_budget", (b, n) => b.Number(n)),
            BudgetDuration = body.Given("budget_duration", (b, n) => b.String(n)),
            TpmLimit = body.Given("tpm_limit", (b, n) => b.Integer(n)),
            RpmLimit = body.Given("rpm_limit", (b, n) => b.Integer(n)),
            Blocked = body.Bool("blocked"),
            Metadata = body.ObjectText("metadata"),
            RouterSettings = body.Object("router_settings") is { } routing ? RouterSettings.Parse(routing) : null,
            Members = members && body["members_with_roles"] is not null
                ? (body["members_with_roles"] as JsonArray ?? throw ProxyError.BadRequest("members_with_roles must be a list of members.", "members_with_roles"))
                    .Select(m => ReadMember(m as JsonObject ?? throw ProxyError.BadRequest("members_with_roles must be a list of objects.", "members_with_roles")))
                    .ToList()
                : null,
        };
    }

    private static MemberInput ReadMember(JsonObject m) =>
        new(m.String("user_id", "member.user_id"), m.String("user_email", "member.user_email"), m.String("role", "member.role"));
}
