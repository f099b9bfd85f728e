using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Portal.Tests.Infrastructure;
using Calls = Portal.Tests.Spend.Spend;

namespace Portal.Tests.Alerts;

/// <summary>
/// Budget alerts (docs/budgets.md, "Alerts"): crossing soft_budget, 80% and 100% of max_budget sends one signed alert
/// per threshold and period to the operator's webhook and the team's own, recorded in the team's audit log.
/// </summary>
[Trait("Category", "Database")]
public sealed class BudgetAlertTests(AlertFixture fixture) : IClassFixture<AlertFixture>
{
    /// <summary>
    /// Output tokens only, at a binary-exact price: a call costs 7 × 0.0625 = 0.4375 and reserves exactly that (max_tokens
    /// 7, input free), so a budget of five calls admits five and its spend reaches max_budget exactly.
    /// </summary>
    private static readonly object Exact = new { input_cost_per_token = 0.0, output_cost_per_token = 0.0625 };
    private const double Cost = 0.4375;

    private GatewayFactory Gateway => fixture.Gateway;
    private WebhookReceiver Receiver => fixture.Receiver;

    [Fact]
    public async Task AKeyCrossingEachThreshold_SendsExactlyOneSignedAlertPerThreshold_ToTheOperatorAndTheTeam_EvenAfterMoreCalls()
    {
        var setup = await fixture.TeamWithModelAsync(extraParams: Exact);
        var teamPath = $"/team-hook/{Guid.NewGuid():N}";
        await SetTeamWebhookAsync(setup.TeamId, Receiver.BaseAddress + teamPath);
        var key = await Gateway.GenerateKeyAsync(setup.TeamId, new { key_alias = $"ci-{Guid.NewGuid():N}", max_budget = 5 * Cost, soft_budget = 0.5 });

        // Spend after each call: 0.4375, 0.875 (soft), 1.3125, 1.75 (80% of 2.1875), 2.1875 (100%); the sixth is refused.
        for (var call = 1; call <= 5; call++)
        {
            await Calls.CallAsync(Gateway, key);
            Assert.Equal(call * Cost, await Calls.KeySpendAsync(Gateway, key, call * Cost), 9);
        }
        await (await Gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Calls.Chat("my-team-model"))).ReadErrorAsync(HttpStatusCode.BadRequest, "budget_exceeded");

        var sent = await AlertsForAsync(AlertFixture.OperatorPath, KeyMasked(key), expected: 3);
        await Task.Delay(1500);
        sent = Alerts(AlertFixture.OperatorPath, KeyMasked(key));
        Assert.Equal(["soft_budget_crossed", "budget_80_percent", "budget_exceeded"], sent.Select(d => d.Json["event"]!.GetValue<string>()));
        foreach (var alert in sent)
        {
            Assert.Equal(Signature(alert.Body), alert.Headers["x-gateway-signature"]);
            Assert.StartsWith("application/json", alert.Headers["content-type"]);
            Assert.DoesNotContain(key, alert.Text);
            Assert.DoesNotContain(setup.ProviderKey, alert.Text);
        }
        var soft = sent[0].Json;
        Assert.Equal("key", soft["scope"]!.GetValue<string>());
        Assert.Equal(setup.TeamId, soft["team_id"]!.GetValue<string>());
        Assert.Equal("team", soft["team_alias"]!.GetValue<string>());
        Assert.Equal($"sk-...{key[^4..]}", soft["key"]!.GetValue<string>());
        Assert.StartsWith("ci-", soft["key_alias"]!.GetValue<string>());
        Assert.Equal(2 * Cost, soft["spend"]!.GetValue<double>(), 9);
        Assert.Equal(0.5, soft["soft_budget"]!.GetValue<double>());
        Assert.Equal(5 * Cost, soft["max_budget"]!.GetValue<double>());
        Assert.Contains("soft budget", soft["text"]!.GetValue<string>());
        Assert.Equal(4 * Cost, sent[1].Json["spend"]!.GetValue<double>(), 9);
        Assert.Equal(5 * Cost, sent[2].Json["spend"]!.GetValue<double>(), 9);

        // The team's own webhook gets the same three.
        var team = Receiver.At(teamPath);
        Assert.Equal(["soft_budget_crossed", "budget_80_percent", "budget_exceeded"], team.Select(d => d.Json["event"]!.GetValue<string>()));
        Assert.All(team, d => Assert.Equal(Signature(d.Body), d.Headers["x-gateway-signature"]));

        // Each is in the team's audit log (its Activity tab), with the masked key and never a URL.
        var audit = await (await Gateway.Client().GetAsync($"/audit?team_id={setup.TeamId}&size=100")).ReadJsonAsync(HttpStatusCode.OK);
        var alerts = audit["data"]!.AsArray().Where(e => e!["action"]!.GetValue<string>() == "budget.alert").ToList();
        Assert.Equal(3, alerts.Count);
        Assert.All(alerts, e => Assert.Equal($"sk-...{key[^4..]}", e!["target_id"]!.GetValue<string>()));
        Assert.DoesNotContain(teamPath, audit.ToJsonString());
        Assert.DoesNotContain(AlertFixture.OperatorPath, audit.ToJsonString());
        Assert.DoesNotContain(key, string.Join('\n', Gateway.Logs));
        Assert.DoesNotContain("secret-path", string.Join('\n', Gateway.Logs));
    }

    [Fact]
    public async Task ATeamsSoftBudget_AlertsOncePerPeriod_AndAgainAfterTheBudgetResets()
    {
        var setup = await fixture.TeamWithModelAsync(extraParams: Exact);
        (await Gateway.Client().PostAsJsonAsync("/team/update", new { team_id = setup.TeamId, soft_budget = 0.8, budget_duration = "1d" })).EnsureSuccessStatusCode();

        for (var call = 1; call <= 3; call++)
        {
            await Calls.CallAsync(Gateway, setup.Key);
            await Calls.KeySpendAsync(Gateway, setup.Key, call * Cost);
        }
        var first = await TeamAlertsAsync(setup.TeamId, expected: 1);
        Assert.Equal("soft_budget_crossed", Assert.Single(first).Json["event"]!.GetValue<string>());
        Assert.Equal("team", first[0].Json["scope"]!.GetValue<string>());
        Assert.Null(first[0].Json["key"]);
        Assert.Equal(2 * Cost, first[0].Json["spend"]!.GetValue<double>(), 9);
        Assert.Equal("1d", first[0].Json["budget_duration"]!.GetValue<string>());

        // Midnight ends the period: spend goes back to 0 and the threshold is armed again.
        fixture.Clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(0, await Calls.WaitForAsync(async () => (await TeamInfoAsync(setup.TeamId))["spend"]!.GetValue<double>(), 0), 9);
        await Calls.CallAsync(Gateway, setup.Key);
        await Calls.CallAsync(Gateway, setup.Key);

        var second = await TeamAlertsAsync(setup.TeamId, expected: 2);
        Assert.Equal(2, second.Count);
        Assert.Equal(2 * Cost, second[1].Json["spend"]!.GetValue<double>(), 9);
    }

    [Fact]
    public async Task SoftBudgetAndWebhook_AreShownInInfo_TheWebhookMaskedAndStoredSealed_AndNullRemovesThem()
    {
        var team = await Gateway.CreateTeamAsync();
        var url = "https://hooks.slack.com/services/T0001/B0001/abcdefSECRET";
        var updated = await (await Gateway.Client().PostAsJsonAsync("/team/update", new { team_id = team, soft_budget = 3.5, alert_webhook_url = url }))
            .ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("https://hooks.slack.com/****", updated["data"]!["alert_webhook_url"]!.GetValue<string>());
        var info = await TeamInfoAsync(team);
        Assert.Equal(3.5, info["soft_budget"]!.GetValue<double>());
        Assert.Equal("https://hooks.slack.com/****", info["alert_webhook_url"]!.GetValue<string>());
        var audit = await (await Gateway.Client().GetAsync($"/audit?team_id={team}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.DoesNotContain("SECRET", audit.ToJsonString());
        Assert.DoesNotContain("SECRET", await File.ReadAllTextAsync(Gateway.DatabaseFile).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : ""));

        var key = await Gateway.GenerateKeyAsync(team, new { soft_budget = 1.25 });
        var keyInfo = await (await Gateway.Client().GetAsync($"/key/info?key={key}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(1.25, keyInfo["info"]!["soft_budget"]!.GetValue<double>());
        var keyUpdated = await (await Gateway.Client().PostAsJsonAsync("/key/update", new { key, soft_budget = (double?)null })).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Null(keyUpdated["soft_budget"]);

        var removed = await (await Gateway.Client().PostAsJsonAsync("/team/update", new { team_id = team, soft_budget = (double?)null, alert_webhook_url = (string?)null }))
            .ReadJsonAsync(HttpStatusCode.OK);
        Assert.Null(removed["data"]!["soft_budget"]);
        Assert.Null(removed["data"]!["alert_webhook_url"]);
    }

    private static string KeyMasked(string key) => $"sk-...{key[^4..]}";

    private static string Signature(byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(AlertFixture.Secret), body));

    private async Task SetTeamWebhookAsync(string teamId, string url) =>
        (await Gateway.Client().PostAsJsonAsync("/team/update", new { team_id = teamId, alert_webhook_url = url })).EnsureSuccessStatusCode();

    private async Task<JsonObject> TeamInfoAsync(string teamId) =>
        (await (await Gateway.Client().GetAsync($"/team/info?team_id={teamId}")).ReadJsonAsync(HttpStatusCode.OK))["team_info"]!.AsObject();

    private List<WebhookReceiver.Delivery> Alerts(string path, string maskedKey) =>
        Receiver.At(path).Where(d => d.Json["key"]?.GetValue<string>() == maskedKey).ToList();

    private async Task<List<WebhookReceiver.Delivery>> AlertsForAsync(string path, string maskedKey, int expected) =>
        await WaitForAsync(() => Alerts(path, maskedKey), expected);

    private async Task<List<WebhookReceiver.Delivery>> TeamAlertsAsync(string teamId, int expected) =>
        await WaitForAsync(() => Receiver.At(AlertFixture.OperatorPath)
            .Where(d => d.Json["scope"]!.GetValue<string>() == "team" && d.Json["team_id"]!.GetValue<string>() == teamId).ToList(), expected);

    private static async Task<List<WebhookReceiver.Delivery>> WaitForAsync(Func<List<WebhookReceiver.Delivery>> read, int expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            var found = read();
            if (found.Count >= expected || DateTime.UtcNow > deadline)
            {
                return found;
            }
            await Task.Delay(50);
        }
    }
}
