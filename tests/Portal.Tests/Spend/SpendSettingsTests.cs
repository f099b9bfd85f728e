using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Portal.Components.Shared;
using Portal.Tests.Infrastructure;
using Proxy.Core.Access;
using Proxy.Core.Keys;
using Proxy.Core.Spend;
using Proxy.Core.Teams;

namespace Portal.Tests.Spend;

/// <summary>Every budget and limit setting is either taken and shown, or refused with a 400 that names it.</summary>
public sealed class SpendSettingsTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    public static TheoryData<string, string, string> Refused => new()
    {
        { "/key/generate", """{"budget_duration": "1 month"}""", "budget_duration" },
        { "/key/generate", """{"budget_duration": "30x"}""", "budget_duration" },
        { "/key/generate", """{"budget_duration": "2mo"}""", "budget_duration" },
        { "/key/generate", """{"max_budget": -1}""", "max_budget" },
        { "/key/generate", """{"max_budget": "ten"}""", "max_budget" },
        { "/key/generate", """{"rpm_limit": 1.5}""", "rpm_limit" },
        { "/key/generate", """{"max_parallel_requests": -2}""", "max_parallel_requests" },
        { "/key/generate", """{"soft_budget": -5}""", "soft_budget" },
        { "/team/new", """{"soft_budget": "five"}""", "soft_budget" },
        { "/team/new", """{"alert_webhook_url": "ftp://hooks.example.com/x"}""", "alert_webhook_url" },
        { "/team/new", """{"alert_webhook_url": "http://169.254.169.254/latest/meta-data"}""", "alert_webhook_url" },
        { "/team/new", """{"alert_webhook_url": "https://user:pass@hooks.example.com/x"}""", "alert_webhook_url" },
        { "/key/generate", """{"model_rpm_limit": {"m": 1}}""", "model_rpm_limit" },
        { "/team/new", """{"max_parallel_requests": 3}""", "max_parallel_requests" },
        { "/team/new", """{"tpm_limit": -5}""", "tpm_limit" },
        { "/team/new", """{"budget_duration": "forever"}""", "budget_duration" },
        { "/user/new", """{"user_email": "limits@example.com", "rpm_limit": -3}""", "rpm_limit" },
        { "/user/new", """{"user_email": "limits@example.com", "max_parallel_requests": 3}""", "max_parallel_requests" },
        { "/team/member_update", """{"team_id": "t", "user_id": "u", "max_budget_in_team": -1}""", "max_budget_in_team" },
        { "/user/new", """{"user_email": "role@example.com", "user_role": "proxy_admin_viewer"}""", "user_role" },
        { "/model/new", """{"model_name": "m", "litellm_params": {"model": "openai/gpt-4o", "rpm": -1}}""", "litellm_params.rpm" },
        { "/model/new", """{"model_name": "m", "litellm_params": {"model": "openai/gpt-4o", "tpm": "lots"}}""", "litellm_params.tpm" },
        { "/model/new", """{"model_name": "m", "litellm_params": {"model": "openai/gpt-4o"}, "model_info": {"input_cost_per_token": "cheap"}}""", "model_info.input_cost_per_token" },
        { "/model/new", """{"model_name": "m", "litellm_params": {"model": "openai/gpt-4o", "output_cost_per_token": -0.1}}""", "litellm_params.output_cost_per_token" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task AnInvalidOrUnsupportedSetting_Is400NamingIt_AndNothingIsStored(string path, string body, string param)
    {
        var before = (await gateway.Client().GetFromJsonAsync<JsonObject>("/key/list?size=100"))!["total_count"]!.GetValue<int>();

        var response = await gateway.Client().PostAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        var json = await response.ReadJsonAsync(HttpStatusCode.BadRequest);
        Assert.Equal(param, json["error"]!["param"]!.GetValue<string>());
        Assert.Equal(before, (await gateway.Client().GetFromJsonAsync<JsonObject>("/key/list?size=100"))!["total_count"]!.GetValue<int>());
    }

    [Fact]
    public async Task KeyLimits_AreShown_AndNullRemovesOne_WhileAnAbsentFieldKeepsIt()
    {
        var team = await gateway.CreateTeamAsync();
        var before = DateTime.UtcNow;
        var created = await (await gateway.Client().PostAsJsonAsync("/key/generate", new
        {
            team_id = team, max_budget = 12.5, budget_duration = "30d", rpm_limit = 60, tpm_limit = 10000, max_parallel_requests = 4,
        })).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(12.5, created["max_budget"]!.GetValue<double>());
        Assert.Equal("30d", created["budget_duration"]!.GetValue<string>());
        // 30d is a calendar month: it resets on the first of the next one (CalendarPeriodTests has the rule).
        Assert.InRange(created["budget_reset_at"]!.GetValue<DateTime>(), Budget.NextReset("30d", before), Budget.NextReset("30d", DateTime.UtcNow));
        Assert.Equal(0, created["spend"]!.GetValue<double>());
        Assert.Equal(4, created["max_parallel_requests"]!.GetValue<int>());

        var updated = await (await gateway.Client().PostAsJsonAsync("/key/update", new JsonObject
        {
            ["key"] = created["key"]!.GetValue<string>(), ["rpm_limit"] = null, ["key_alias"] = $"kept-{Guid.NewGuid():N}",
        })).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Null(updated["rpm_limit"]);
        Assert.Equal(10000, updated["tpm_limit"]!.GetValue<long>());
        Assert.Equal(12.5, updated["max_budget"]!.GetValue<double>());
        Assert.Equal(created["budget_reset_at"]!.GetValue<DateTime>(), updated["budget_reset_at"]!.GetValue<DateTime>());
    }

    [Fact]
    public async Task TeamBudget_IsShownInTeamInfo()
    {
        var team = await gateway.CreateTeamAsync();

        var before = DateTime.UtcNow;
        var updated = await (await gateway.Client().PostAsJsonAsync("/team/update", new { team_id = team, max_budget = 100, budget_duration = "7d", rpm_limit = 600 }))
            .ReadJsonAsync(HttpStatusCode.OK);

        var data = updated["data"]!;
        Assert.Equal(100, data["max_budget"]!.GetValue<double>());
        Assert.Equal("7d", data["budget_duration"]!.GetValue<string>());
        Assert.InRange(data["budget_reset_at"]!.GetValue<DateTime>(), Budget.NextReset("7d", before), Budget.NextReset("7d", DateTime.UtcNow));
        Assert.Equal(600, data["rpm_limit"]!.GetValue<long>());
    }

    [Fact]
    public async Task UserNew_CreatesAUserWithABudget_AndAKeyUnlessAskedNotTo()
    {
        var email = $"user-{Guid.NewGuid():N}@example.com";

        var created = await (await gateway.Client().PostAsJsonAsync("/user/new", new { user_email = email, max_budget = 5, budget_duration = "1d" })).ReadJsonAsync(HttpStatusCode.OK);

        var key = created["key"]!.GetValue<string>();
        Assert.StartsWith("sk-", key);
        var userId = created["user_id"]!.GetValue<string>();
        var info = await (await gateway.Client(key).GetAsync("/user/info")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(userId, info["user_id"]!.GetValue<string>());
        Assert.Equal(5, info["user_info"]!["max_budget"]!.GetValue<double>());
        Assert.Equal("internal_user", info["user_info"]!["user_role"]!.GetValue<string>());
        Assert.Single(info["keys"]!.AsArray());
        Assert.DoesNotContain(key, info.ToJsonString());

        var again = await gateway.Client().PostAsJsonAsync("/user/new", new { user_email = email });
        Assert.Contains("already exists", await again.ReadErrorAsync(HttpStatusCode.BadRequest));
        var updated = await (await gateway.Client().PostAsJsonAsync("/user/update", new { user_email = email, max_budget = 7 })).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(7, updated["data"]!["max_budget"]!.GetValue<double>());
    }

    [Fact]
    public async Task ThePortalsLimitsForm_SendsWhatTheCoreStores_AnEmptyFieldRemovesTheLimit()
    {
        await using var scope = gateway.Services.CreateAsyncScope();
        var teams = scope.ServiceProvider.GetRequiredService<TeamService>();
        var keys = scope.ServiceProvider.GetRequiredService<KeyService>();
        var team = await teams.CreateAsync(Caller.MasterKey, new TeamInput { TeamAlias = "limits" });
        var issued = await keys.GenerateAsync(Caller.MasterKey, new LimitsForm { MaxBudget = 3, RpmLimit = 10 }.ApplyTo(new KeyInput { TeamId = team.Team.TeamId }));

        var cleared = await keys.UpdateAsync(Caller.MasterKey, issued.Key.Token, new LimitsForm { MaxBudget = 3, BudgetDuration = "7d" }.ApplyTo(new KeyInput()));
        var teamAfter = await teams.UpdateAsync(Caller.MasterKey, new LimitsForm { MaxBudget = 50, TpmLimit = 1000 }.ToTeamInput(team.Team.TeamId));

        Assert.Equal(3, cleared.MaxBudget);
        Assert.Null(cleared.RpmLimit);
        Assert.Equal("7d", cleared.BudgetDuration);
        Assert.NotNull(cleared.BudgetResetAt);
        Assert.Equal(50, teamAfter.Team.MaxBudget);
        Assert.Equal(1000, teamAfter.Team.TpmLimit);
    }

    /// <summary>A bad value as the REST API gets it (JSON) and as the portal's limits form holds it; the form's field is named by the API's param.</summary>
    public static TheoryData<string, string, string> SameRule => new()
    {
        { "/key/generate", """{"max_budget": -5}""", "max_budget" },
        { "/key/generate", """{"soft_budget": -1}""", "soft_budget" },
        { "/key/generate", """{"tpm_limit": -1}""", "tpm_limit" },
        { "/key/generate", """{"rpm_limit": -1}""", "rpm_limit" },
        { "/key/generate", """{"max_parallel_requests": -1}""", "max_parallel_requests" },
        { "/key/generate", """{"budget_duration": "30x"}""", "budget_duration" },
        { "/key/generate", """{"budget_duration": "2mo"}""", "budget_duration" },
        { "/key/generate", """{"model_max_budget": {"m": {"budget_limit": -1}}}""", "model_max_budget.m.budget_limit" },
        { "/key/generate", """{"model_max_budget": {"m": {"time_period": "1d"}}}""", "model_max_budget.m.budget_limit" },
        { "/key/generate", """{"model_max_budget": {"m": {"budget_limit": 1, "time_period": "soon"}}}""", "model_max_budget.m.time_period" },
        { "/team/update", """{"max_budget": -5}""", "max_budget" },
        { "/team/update", """{"soft_budget": -5}""", "soft_budget" },
        { "/team/update", """{"rpm_limit": -5}""", "rpm_limit" },
    };

    [Theory]
    [MemberData(nameof(SameRule))]
    public async Task TheRestApiAndThePortalsForm_RefuseTheSameBadValue_WithTheSameMessage_OnTheSameField(string path, string body, string param)
    {
        var json = JsonNode.Parse(body)!.AsObject();
        if (path == "/team/update")
        {
            json["team_id"] = await gateway.CreateTeamAsync();
        }
        var form = LimitsForm.ForNewKey();
        form.MaxBudget = json["max_budget"]?.GetValue<double>();
        form.SoftBudget = json["soft_budget"]?.GetValue<double>();
        form.TpmLimit = json["tpm_limit"]?.GetValue<long>();
        form.RpmLimit = json["rpm_limit"]?.GetValue<long>();
        form.MaxParallelRequests = json["max_parallel_requests"]?.GetValue<int>();
        form.BudgetDuration = json["budget_duration"]?.GetValue<string>() ?? "";
        foreach (var (model, budget) in json["model_max_budget"]?.AsObject() ?? [])
        {
            form.ModelBudgets.Add(new ModelBudgetRow { Model = model, BudgetLimit = budget!["budget_limit"]?.GetValue<double>(), TimePeriod = budget["time_period"]?.GetValue<string>() ?? "" });
        }

        var response = await gateway.Client().PostAsJsonAsync(path, json);

        var error = (await response.ReadJsonAsync(HttpStatusCode.BadRequest))["error"]!;
        Assert.Equal(param, error["param"]!.GetValue<string>());
        var (field, message) = Assert.Single(form.Refusals(DateTime.UtcNow));
        Assert.Equal(error["message"]!.GetValue<string>(), message);
        Assert.Equal(form.FieldOf(param), field);
    }
}
