using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Spend;

/// <summary>
/// /model/new and /model/update say when the registered model has no known price (its calls are not counted as spend),
/// and say nothing of a priced one; max_output_tokens in model_info is taken and checked, not stored and ignored.
/// </summary>
[Trait("Category", "Database")]
public sealed class NoPriceNoticeTests(LlmFixture fixture) : IClassFixture<LlmFixture>
{
    private GatewayFactory Gateway => fixture.Gateway;

    private async Task<HttpResponseMessage> RegisterAsync(string team, string model, JsonObject? info = null)
    {
        info ??= [];
        info["team_id"] = team;
        return await Gateway.Client().PostAsJsonAsync("/model/new", new
        {
            model_name = $"m-{Guid.NewGuid():N}",
            litellm_params = new { model, api_key = "sk-provider-price-0001", api_base = fixture.Upstream.ApiBase("ok", out _) },
            model_info = info,
        });
    }

    [Fact]
    public async Task ModelNew_OfAnUnpricedVllmModel_WarnsThatSpendIsNotTracked()
    {
        var team = await Gateway.CreateTeamAsync();

        var json = await (await RegisterAsync(team, "hosted_vllm/meta-llama/Llama-3.3-70B-Instruct")).ReadJsonAsync(HttpStatusCode.OK);

        var warning = Assert.Single(json["warnings"]!.AsArray())!.GetValue<string>();
        Assert.StartsWith("no price: spend not tracked", warning);
        Assert.Contains("model_info.input_cost_per_token", warning);
    }

    [Fact]
    public async Task ModelNew_OfAPricedModel_HasNoWarnings()
    {
        var team = await Gateway.CreateTeamAsync();

        var json = await (await RegisterAsync(team, "groq/llama-3.3-70b-versatile")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.False(json.ContainsKey("warnings"));
    }

    [Fact]
    public async Task ModelUpdate_ThatPricesTheModel_DropsTheWarning()
    {
        var team = await Gateway.CreateTeamAsync();
        var created = await (await RegisterAsync(team, "hosted_vllm/my-llama")).ReadJsonAsync(HttpStatusCode.OK);
        var id = created["model_id"]!.GetValue<string>();

        var updated = await (await Gateway.Client().PostAsJsonAsync("/model/update", new
        {
            model_info = new { id, input_cost_per_token = 1e-07, output_cost_per_token = 2e-07, max_output_tokens = 4096 },
        })).ReadJsonAsync(HttpStatusCode.OK);

        Assert.False(updated.ContainsKey("warnings"));
        Assert.Equal(4096, updated["model_info"]!["max_output_tokens"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("max_output_tokens", 0)]
    [InlineData("max_tokens", 2.5)]
    public async Task ModelNew_WithABadMaximumOutput_IsA400NamingTheField(string field, double value)
    {
        var team = await Gateway.CreateTeamAsync();

        var message = await (await RegisterAsync(team, "openai/gpt-4o", new JsonObject { [field] = value })).ReadErrorAsync(HttpStatusCode.BadRequest);

        Assert.Contains($"model_info.{field}", message);
    }
}
