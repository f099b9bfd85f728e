using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Portal.Tests.Infrastructure;
using Portal.Tests.Spend;

namespace Portal.Tests.Compatibility;

/// <summary>
/// LiteLLM's tests/test_users.py and the user and member parts of tests/test_team.py, replayed against the gateway
/// (with models that exist on the provider stand-in), and the silent cases they once fell into: /user/new's team_id and
/// models, /team/member_update's max_budget_in_team, user-level rpm/tpm.
/// </summary>
[Trait("Category", "Database")]
public sealed class UserCompatibilityTests(LlmFixture fixture) : IClassFixture<LlmFixture>
{
    private GatewayFactory Gateway => fixture.Gateway;
    private StandInUpstream Upstream => fixture.Upstream;

    /// <summary>A priced global model on the stand-in, under a name of this test's own (global names are shared by the fixture's tests).</summary>
    private async Task<string> GlobalModelAsync(string prefix)
    {
        var name = $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];
        (await Gateway.Client().PostAsJsonAsync("/model/new", new
        {
            model_name = name,
            litellm_params = new
            {
                model = "openai/gpt-4o", api_key = "sk-provider-global-secret-0001", api_base = Upstream.ApiBase("ok", out _),
                input_cost_per_token = 0.001, output_cost_per_token = 0.002,
            },
        })).EnsureSuccessStatusCode();
        return name;
    }

    private async Task<JsonObject> NewUserAsync(object body) =>
        await (await Gateway.Client().PostAsJsonAsync("/user/new", body)).ReadJsonAsync(HttpStatusCode.OK);

    private Task<JsonObject> UserInfoAsync(string userId, string? by = GatewayFactory.MasterKey) =>
        Gateway.Client(by).GetAsync($"/user/info?user_id={userId}").ContinueWith(t => t.Result.ReadJsonAsync(HttpStatusCode.OK)).Unwrap();

    private Task<HttpResponseMessage> ChatAsync(string key, string model) =>
        Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Spend.Spend.Chat(model));

    /// <summary>
    /// test_team.py::test_users_in_team_budget, as LiteLLM sends it (its "fake-openai-endpoint" is a priced global model
    /// here). LiteLLM refuses the second call, after the first crossed the member's budget of 1e-07; here the first is
    /// refused already, as its worst case does not fit (docs/compatibility.md, "Budgets").
    /// </summary>
    [Fact]
    public async Task TestUsersInTeamBudget_ACallBeyondTheMembersBudgetIsRefused_AndUserInfoShowsTheMembersBudget()
    {
        var model = await GlobalModelAsync("fake-openai-endpoint");
        var team = await Gateway.CreateTeamAsync();
        var userId = $"user-{Guid.NewGuid():N}";
        var user = await NewUserAsync(new JsonObject
        {
            ["user_id"] = userId, ["max_budget"] = 10, ["budget_duration"] = "5s", ["models"] = new JsonArray(model), ["team_id"] = team,
            ["duration"] = null,
        });
        var key = user["key"]!.GetValue<string>();
        (await Gateway.Client().PostAsJsonAsync("/team/member_update", new { team_id = team, user_id = userId, max_budget_in_team = 0.0000001 }))
            .EnsureSuccessStatusCode();

        var refused = await ChatAsync(key, model);

        var message = await refused.ReadErrorAsync(HttpStatusCode.BadRequest, "budget_exceeded");
        Assert.StartsWith("Budget has been exceeded!", message);
        Assert.True(message.Contains($"User={userId} in Team={team} Current cost: 0, Reserved by calls in flight: 0, This call may cost up to: ", StringComparison.Ordinal), message);
        var info = await UserInfoAsync(userId);
        var membership = info["teams"]![0]!["team_memberships"]![0]!;
        Assert.Equal(0.0000001, membership["litellm_budget_table"]!["max_budget"]!.GetValue<double>());
        Assert.Equal(0, membership["spend"]!.GetValue<double>());
    }

    /// <summary>test_users.py::test_user_model_access: the user's models bind their keys whose own models is []. LiteLLM answers 401; the gateway's refusal of a model is its 400 (docs/api.md section 2).</summary>
    [Fact]
    public async Task TestUserModelAccess_TheUsersModelsBindTheirKeysWithoutModels()
    {
        var good = await GlobalModelAsync("good-model");
        var bad = await GlobalModelAsync("bedrock-model");
        var userId = $"user-{Guid.NewGuid():N}";
        await NewUserAsync(new { user_id = userId, models = new[] { good }, auto_create_key = false });
        var key = await Gateway.GenerateKeyAsync(null, new { user_id = userId, models = Array.Empty<string>() });

        (await ChatAsync(key, good)).EnsureSuccessStatusCode();
        var refused = await ChatAsync(key, bad);

        Assert.Contains($"Invalid model name passed in model={bad}", await refused.ReadErrorAsync(HttpStatusCode.BadRequest));
        var models = (await Gateway.Client(key).GetFromJsonAsync<JsonObject>("/v1/models"))!["data"]!.AsArray().Select(m => m!["id"]!.GetValue<string>()).ToList();
        Assert.Contains(good, models);
        Assert.DoesNotContain(bad, models);
    }

    /// <summary>A key with its own models list is bound by that list, not by its user's (LiteLLM's rule: the user's models fill in for [] only).</summary>
    [Fact]
    public async Task AKeyWithItsOwnModels_IsNotNarrowedByItsUsersModels()
    {
        var good = await GlobalModelAsync("good-model");
        var other = await GlobalModelAsync("other-model");
        var userId = $"user-{Guid.NewGuid():N}";
        await NewUserAsync(new { user_id = userId, models = new[] { good }, auto_create_key = false });
        var key = await Gateway.GenerateKeyAsync(null, new { user_id = userId, models = new[] { other } });

        (await ChatAsync(key, other)).EnsureSuccessStatusCode();
        await (await ChatAsync(key, good)).ReadErrorAsync(HttpStatusCode.BadRequest);
    }

    /// <summary>test_team.py::test_team_member_add_email.</summary>
    [Fact]
    public async Task TestTeamMemberAddEmail_TheTeamIsInTheUsersInfo()
    {
        var team = await Gateway.CreateTeamAsync();
        var email = $"member-{Guid.NewGuid():N}@example.com";
        var user = await NewUserAsync(new { user_email = email });

        (await Gateway.Client().PostAsJsonAsync("/team/member_add", new { team_id = team, member = new[] { new { role = "user", user_email = email } } }))
            .EnsureSuccessStatusCode();

        var info = await UserInfoAsync(user["user_id"]!.GetValue<string>());
        Assert.Contains(team, info["teams"]!.AsArray().Select(t => t!["team_id"]!.GetValue<string>()));
    }

    /// <summary>test_users.py::test_user_info: the master key and the user's own key see it; another user's key gets 403.</summary>
    [Fact]
    public async Task TestUserInfo_MasterAndSelfSeeIt_AnotherUserGets403()
    {
        var userId = $"krrish_{Guid.NewGuid():N}@berri.ai";
        var own = (await NewUserAsync(new { user_id = userId, models = new[] { "azure-models" }, duration = (string?)null }))["key"]!.GetValue<string>();
        var other = (await NewUserAsync(new { user_id = $"other-{Guid.NewGuid():N}" }))["key"]!.GetValue<string>();

        Assert.NotEmpty((await UserInfoAsync(userId))["user_info"]!.AsObject());
        Assert.NotEmpty((await UserInfoAsync(userId, own))["user_info"]!.AsObject());
        await (await Gateway.Client(other).GetAsync($"/user/info?user_id={userId}")).ReadErrorAsync(HttpStatusCode.Forbidden, "permission_error");
        // The same 403 for a user that does not exist: the answer reveals nothing.
        await (await Gateway.Client(other).GetAsync($"/user/info?user_id=nobody-{Guid.NewGuid():N}")).ReadErrorAsync(HttpStatusCode.Forbidden, "permission_error");
    }

    /// <summary>Once silently ignored: /user/new {team_id} answered 200 with a user outside the team and a teamless key.</summary>
    [Fact]
    public async Task UserNewWithTeamId_WasSilentlyIgnored_NowMakesAUserMember_AndATeamKey()
    {
        var setup = await fixture.TeamWithModelAsync(extraParams: BudgetTests.Priced);
        var email = $"joiner-{Guid.NewGuid():N}@example.com";

        var user = await NewUserAsync(new { user_email = email, team_id = setup.TeamId, models = new[] { "azure-models" } });

        Assert.Equal(setup.TeamId, user["team_id"]!.GetValue<string>());
        var key = user["key"]!.GetValue<string>();
        var keyInfo = await (await Gateway.Client().GetAsync($"/key/info?key={key}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(setup.TeamId, keyInfo["info"]!["team_id"]!.GetValue<string>());
        Assert.Equal(user["user_id"]!.GetValue<string>(), keyInfo["info"]!["user_id"]!.GetValue<string>());
        Assert.Equal(["azure-models"], keyInfo["info"]!["models"]!.AsArray().Select(m => m!.GetValue<string>()));
        var team = await (await Gateway.Client().GetAsync($"/team/info?team_id={setup.TeamId}")).ReadJsonAsync(HttpStatusCode.OK);
        var member = Assert.Single(team["team_info"]!["members_with_roles"]!.AsArray(), m => m!["user_email"]?.GetValue<string>() == email)!;
        Assert.Equal("user", member["role"]!.GetValue<string>());
        // The team key calls the team's own model.
        await Spend.Spend.CallAsync(Gateway, key);
    }

    [Fact]
    public async Task UserNewWithAnUnknownTeam_Is400_AndCreatesNoUser()
    {
        var email = $"lost-{Guid.NewGuid():N}@example.com";

        var refused = await Gateway.Client().PostAsJsonAsync("/user/new", new { user_email = email, team_id = $"no-such-team-{Guid.NewGuid():N}" });

        Assert.Contains("does not exist", await refused.ReadErrorAsync(HttpStatusCode.BadRequest));
        (await Gateway.Client().PostAsJsonAsync("/user/new", new { user_email = email, auto_create_key = false })).EnsureSuccessStatusCode();
    }

    /// <summary>Once refused: user rpm_limit was a 400. Now the limit binds all of the user's keys together.</summary>
    [Fact]
    public async Task UserRpmLimit_WasRefused_NowBindsAllTheUsersKeysTogether()
    {
        var setup = await fixture.TeamWithModelAsync();
        var user = await NewUserAsync(new { user_email = $"rpm-{Guid.NewGuid():N}@example.com", rpm_limit = 2, team_id = setup.TeamId });
        var first = user["key"]!.GetValue<string>();
        var second = await Gateway.GenerateKeyAsync(setup.TeamId, new { user_id = user["user_id"]!.GetValue<string>() });

        await Spend.Spend.CallAsync(Gateway, first);
        await Spend.Spend.CallAsync(Gateway, second);
        var refused = await ChatAsync(second, "my-team-model");

        Assert.Contains($"Rate limit exceeded for user {user["user_id"]!.GetValue<string>()}: rpm_limit=2", await refused.ReadErrorAsync(HttpStatusCode.TooManyRequests, "rate_limit_error"));
        Assert.Equal(2, user["rpm_limit"]!.GetValue<long>());
    }

    /// <summary>Once refused: user tpm_limit. The stand-in's call uses 18 tokens: the call that crosses 10 completes, the next waits.</summary>
    [Fact]
    public async Task UserTpmLimit_WasRefused_NowRefusesOnceTheUsersTokensAreUsedUp()
    {
        var setup = await fixture.TeamWithModelAsync();
        var user = await NewUserAsync(new { user_email = $"tpm-{Guid.NewGuid():N}@example.com", auto_create_key = false });
        var userId = user["user_id"]!.GetValue<string>();
        (await Gateway.Client().PostAsJsonAsync("/user/update", new { user_id = userId, tpm_limit = 10 })).EnsureSuccessStatusCode();
        var key = await Gateway.GenerateKeyAsync(setup.TeamId, new { user_id = userId });

        await Spend.Spend.CallAsync(Gateway, key);
        var refused = await ChatAsync(key, "my-team-model");

        Assert.Contains($"user {userId}: tpm_limit=10", await refused.ReadErrorAsync(HttpStatusCode.TooManyRequests, "rate_limit_error"));
    }

    /// <summary>Once a 400 "role is required", and with a role the budget was dropped. One member's budget binds only that member's calls.</summary>
    [Fact]
    public async Task MaxBudgetInTeam_WasIgnored_NowBindsThatMember_AndNotAnother()
    {
        var setup = await fixture.TeamWithModelAsync(extraParams: BudgetTests.Priced);
        var bound = await NewUserAsync(new { user_email = $"bound-{Guid.NewGuid():N}@example.com", team_id = setup.TeamId });
        var free = await NewUserAsync(new { user_email = $"free-{Guid.NewGuid():N}@example.com", team_id = setup.TeamId });
        var boundId = bound["user_id"]!.GetValue<string>();
        (await Gateway.Client().PostAsJsonAsync("/team/member_update", new { team_id = setup.TeamId, user_id = boundId, max_budget_in_team = 0.17 }))
            .EnsureSuccessStatusCode();

        await Spend.Spend.CallAsync(Gateway, bound["key"]!.GetValue<string>());
        await Spend.Spend.CallAsync(Gateway, bound["key"]!.GetValue<string>());
        var refused = await ChatAsync(bound["key"]!.GetValue<string>(), "my-team-model");

        Assert.Contains($"User={boundId} in Team={setup.TeamId} Current cost: 0.05, Reserved by calls in flight: 0, This call may cost up to: 0.137, Max budget: 0.17.", await refused.ReadErrorAsync(HttpStatusCode.BadRequest, "budget_exceeded"));
        for (var i = 0; i < 3; i++)
        {
            await Spend.Spend.CallAsync(Gateway, free["key"]!.GetValue<string>());
        }
        // The team's keys without that user are not bound either.
        await Spend.Spend.CallAsync(Gateway, setup.Key);
        var team = await (await Gateway.Client().GetAsync($"/team/info?team_id={setup.TeamId}")).ReadJsonAsync(HttpStatusCode.OK);
        var membership = Assert.Single(team["team_memberships"]!.AsArray(), m => m!["user_id"]!.GetValue<string>() == boundId)!;
        Assert.Equal(0.17, membership["litellm_budget_table"]!["max_budget"]!.GetValue<double>());
    }

    [Fact]
    public async Task MaxBudgetInTeam_OnMemberAdd_AppliesToEveryMemberOfTheCall_AndARoleOnlyUpdateKeepsIt()
    {
        var team = await Gateway.CreateTeamAsync();
        var a = $"a-{Guid.NewGuid():N}@example.com";
        var b = $"b-{Guid.NewGuid():N}@example.com";

        (await Gateway.Client().PostAsJsonAsync("/team/member_add", new
        {
            team_id = team, max_budget_in_team = 2.5, member = new[] { new { role = "user", user_email = a }, new { role = "user", user_email = b } },
        })).EnsureSuccessStatusCode();
        (await Gateway.Client().PostAsJsonAsync("/team/member_update", new { team_id = team, user_email = a, role = "admin" })).EnsureSuccessStatusCode();

        var memberships = (await (await Gateway.Client().GetAsync($"/team/info?team_id={team}")).ReadJsonAsync(HttpStatusCode.OK))["team_memberships"]!.AsArray();
        Assert.Equal(2, memberships.Count);
        Assert.All(memberships, m => Assert.Equal(2.5, m!["litellm_budget_table"]!["max_budget"]!.GetValue<double>()));
        Assert.Contains(memberships, m => m!["role"]!.GetValue<string>() == "admin");

        // null removes it; a negative budget is the same 400 the portal shows.
        (await Gateway.Client().PostAsJsonAsync("/team/member_update", new JsonObject { ["team_id"] = team, ["user_email"] = a, ["max_budget_in_team"] = null }))
            .EnsureSuccessStatusCode();
        var negative = await Gateway.Client().PostAsJsonAsync("/team/member_update", new { team_id = team, user_email = b, max_budget_in_team = -1 });
        Assert.Equal("max_budget_in_team must not be negative.", await negative.ReadErrorAsync(HttpStatusCode.BadRequest));
        var empty = await Gateway.Client().PostAsJsonAsync("/team/member_update", new { team_id = team, user_email = b });
        Assert.Contains("role or max_budget_in_team is required", await empty.ReadErrorAsync(HttpStatusCode.BadRequest));
        memberships = (await (await Gateway.Client().GetAsync($"/team/info?team_id={team}")).ReadJsonAsync(HttpStatusCode.OK))["team_memberships"]!.AsArray();
        Assert.Single(memberships, m => m!["litellm_budget_table"] is null);
    }

    /// <summary>Only a proxy admin grants proxy_admin: a team admin's key asking for it is refused, and no user is made.</summary>
    [Fact]
    public async Task UserRoleProxyAdmin_ByATeamAdminsKey_Is403()
    {
        var team = await Gateway.CreateTeamAsync();
        var admin = await NewUserAsync(new { user_email = $"admin-{Guid.NewGuid():N}@example.com", auto_create_key = false });
        (await Gateway.Client().PostAsJsonAsync("/team/member_add", new { team_id = team, member = new { role = "admin", user_id = admin["user_id"]!.GetValue<string>() } }))
            .EnsureSuccessStatusCode();
        var adminKey = await Gateway.GenerateKeyAsync(team, new { user_id = admin["user_id"]!.GetValue<string>() });

        var refused = await Gateway.Client(adminKey).PostAsJsonAsync("/user/new", new { user_email = $"climber-{Guid.NewGuid():N}@example.com", user_role = "proxy_admin" });

        await refused.ReadErrorAsync(HttpStatusCode.Forbidden, "permission_error");
    }

    [Theory]
    [InlineData("proxy_admin_viewer")]
    [InlineData("internal_user_viewer")]
    public async Task ViewerRoles_AreRefused_NotSilentlyMadePlainUsers(string role)
    {
        var refused = await Gateway.Client().PostAsJsonAsync("/user/new", new { user_email = $"viewer-{Guid.NewGuid():N}@example.com", user_role = role });

        Assert.Contains("no read-only roles", await refused.ReadErrorAsync(HttpStatusCode.BadRequest));
    }

    /// <summary>LiteLLM's /user/update is an upsert (test_keys.py::test_key_update posts an unknown user_id and expects 200).</summary>
    [Fact]
    public async Task UserUpdate_OfAnUnknownUserId_CreatesTheUser_AndModelsEmptyLiftsTheRestriction()
    {
        var userId = $"litellm-proxy-budget-{Guid.NewGuid():N}";

        var created = await (await Gateway.Client().PostAsJsonAsync("/user/update", new { user_id = userId, models = new[] { "gpt-4o" }, max_budget = 5 })).ReadJsonAsync(HttpStatusCode.OK);
        var lifted = await (await Gateway.Client().PostAsJsonAsync("/user/update", new { user_id = userId, models = Array.Empty<string>() })).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(["gpt-4o"], created["data"]!["models"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.Empty(lifted["data"]!["models"]!.AsArray());
        Assert.Equal(5, (await UserInfoAsync(userId))["user_info"]!["max_budget"]!.GetValue<double>());
    }
}
