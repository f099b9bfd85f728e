using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Compatibility;

/// <summary>
/// A gateway and a provider stand-in set up like LiteLLM's live-proxy test config (proxy_server_config.yaml) as far as
/// the team, key and model tests need it: the global models they call, registered by the master key on the stand-in.
/// <c>gpt-4</c> is priced (11 × 0.001 + 7 × 0.002 = 0.025 USD a call) so that budgets of 1e-7 are crossed by one call.
/// </summary>
public sealed class TeamsKeysModelsFixture : LlmFixture, IAsyncLifetime
{
    public const double Gpt4CallCost = 0.025;

    public string Gpt4UpstreamId { get; private set; } = "";

    async Task IAsyncLifetime.InitializeAsync()
    {
        foreach (var name in new[] { "gpt-4", "gpt-3.5-turbo" })
        {
            var apiBase = Upstream.ApiBase("ok", out var id);
            if (name == "gpt-4")
            {
                Gpt4UpstreamId = id;
            }
            var litellmParams = new JsonObject { ["model"] = $"openai/{name}", ["api_key"] = $"sk-provider-compat-{name}-0001", ["api_base"] = apiBase };
            if (name == "gpt-4")
            {
                litellmParams["input_cost_per_token"] = 0.001;
                litellmParams["output_cost_per_token"] = 0.002;
            }
            (await Gateway.Client().PostAsJsonAsync("/model/new", new JsonObject { ["model_name"] = name, ["litellm_params"] = litellmParams })).EnsureSuccessStatusCode();
        }
    }
}

/// <summary>What LiteLLM's tests/test_keys.py, test_team.py and test_models.py send, byte for byte where it matters (explicit nulls).</summary>
internal static class Replay
{
    /// <summary>
    /// "KG-default": test_keys.py's generate_key body. <c>aliases</c> is LiteLLM's key-level alias map; <c>azure-models</c>
    /// and <c>dall-e-3</c> are names from LiteLLM's config that do not exist here (a key may list names that do not exist).
    /// </summary>
    public static string KeyGenerateDefault(string maxBudget = "null", string metadata = "null", string maxParallelRequests = "null", string userId = "null", string teamId = "null") => $$"""
        {"models": ["azure-models", "gpt-4", "dall-e-3"], "aliases": {"mistral-7b": "gpt-3.5-turbo"}, "duration": null, "max_budget": {{maxBudget}}, "budget_duration": null, "max_parallel_requests": {{maxParallelRequests}}, "user_id": {{userId}}, "team_id": {{teamId}}, "metadata": {{metadata}}}
        """;

    /// <summary>test_team.py's generate_key body (no aliases).</summary>
    public static string TeamTestKeyGenerate(string? teamId) => teamId is null
        ? """{"models": ["azure-models", "gpt-4", "dall-e-3"], "duration": null, "max_budget": null, "budget_duration": null}"""
        : $$"""{"models": ["azure-models", "gpt-4", "dall-e-3"], "duration": null, "max_budget": null, "budget_duration": null, "team_id": "{{teamId}}"}""";

    /// <summary>test_team.py's new_user body, adapted: LiteLLM sends <c>"models": ["azure-models"]</c> and <c>"aliases"</c> too;
    /// docs/compatibility.md: "`/user/new` ... `teams`, `models` and rate limits on users are refused", so both are left out.</summary>
    public static string NewUser(string? userId, string? userEmail = null) =>
        $$"""{"duration": null, "max_budget": null, "budget_duration": null, "user_email": {{Str(userEmail)}}{{(userId is null ? "" : $", \"user_id\": \"{userId}\"")}}}""";

    public static string Chat(string model) => $$"""
        {"model": "{{model}}", "messages": [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "Hello!"}]}
        """;

    public static string Str(string? value) => value is null ? "null" : JsonValue.Create(value).ToJsonString();

    public static Task<HttpResponseMessage> PostAsync(this HttpClient client, string path, string json) =>
        client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    public static async Task<JsonObject> OkAsync(this Task<HttpResponseMessage> response) => await (await response).ReadJsonAsync(HttpStatusCode.OK);

    public static async Task<string> KeyAsync(GatewayFactory gateway, string body) =>
        (await gateway.Client().PostAsync("/key/generate", body).OkAsync())["key"]!.GetValue<string>();

    /// <summary>The key's recorded spend once it is above zero (the spend writer runs in the background).</summary>
    public static async Task<double> SpendRecordedAsync(GatewayFactory gateway, string key)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            var spend = (await gateway.Client().GetAsync($"/key/info?key={key}").OkAsync())["info"]!["spend"]!.GetValue<double>();
            if (spend > 0 || DateTime.UtcNow > deadline)
            {
                return spend;
            }
            await Task.Delay(50);
        }
    }
}
