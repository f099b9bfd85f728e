using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Operations;

/// <summary>
/// ASP.NET Core's meters are listened to by name, so in this process they would also count the requests of the other
/// test hosts: the tests that read them run with nothing beside them (CI once counted two other hosts' 400s as LLM calls).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsCollection
{
    public const string Name = "Metrics (runs alone)";
}

/// <summary>/metrics as Prometheus scrapes it: who may read it, and what the gateway's own meters say after real calls.</summary>
[Collection(MetricsCollection.Name)]
public sealed partial class MetricsTests : IAsyncLifetime
{
    private const string ScrapeToken = "scrape-token-for-prometheus-0123";

    private readonly GatewayFactory _gateway = new() { Settings = new() { ["Telemetry:ScrapeToken"] = ScrapeToken, ["Telemetry:HttpClientMetrics"] = "true" } };
    private readonly StandInUpstream _upstream = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task Metrics_AreForTheMasterKeyOrTheScrapeToken_Only()
    {
        var team = await _gateway.CreateTeamAsync();
        var teamKey = await _gateway.GenerateKeyAsync(team);

        await (await _gateway.Client(key: null).GetAsync("/metrics")).ReadErrorAsync(HttpStatusCode.Unauthorized, "auth_error");
        await (await _gateway.Client(teamKey).GetAsync("/metrics")).ReadErrorAsync(HttpStatusCode.Forbidden, "permission_error");
        await (await _gateway.Client("sk-not-a-key-0000000000000000000000000000").GetAsync("/metrics")).ReadErrorAsync(HttpStatusCode.Unauthorized);
        foreach (var allowed in new[] { GatewayFactory.MasterKey, ScrapeToken })
        {
            var response = await _gateway.Client(allowed).GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.MediaType);
            Assert.Contains("# TYPE", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Calls_AreCountedByTeamAliasAndPublicModel_WithLatencyTokensAndSpend_AndNoSecretInAnyLabel()
    {
        var admin = _gateway.Client();
        var team = (await (await admin.PostAsJsonAsync("/team/new", new { team_alias = "Sweden" })).ReadJsonAsync(HttpStatusCode.OK))["team_id"]!.GetValue<string>();
        var key = await _gateway.GenerateKeyAsync(team);
        var model = await (await _gateway.Client(key).PostAsJsonAsync("/model/new", new
        {
            model_name = "metered-model",
            litellm_params = new { model = "openai/gpt-4o", api_base = _upstream.ApiBase("ok", out _), api_key = "sk-provider-metered-secret-9f3a" },
            model_info = new { team_id = team },
        })).ReadJsonAsync(HttpStatusCode.OK);
        var caller = _gateway.Client(key);
        for (var i = 0; i < 3; i++)
        {
            (await caller.PostAsJsonAsync("/v1/chat/completions", Chat("metered-model"))).EnsureSuccessStatusCode();
        }
        await (await caller.PostAsJsonAsync("/v1/chat/completions", Chat("no-such-model-made-up-by-a-caller"))).ReadErrorAsync(HttpStatusCode.BadRequest);

        var text = await ScrapeUntilAsync("gateway_requests_total{", l => l.Contains("status=\"400\"", StringComparison.Ordinal));

        Assert.Equal(3, Value(text, "gateway_requests_total", "team=\"Sweden\"", "model=\"metered-model\"", "status=\"200\""));
        Assert.Equal(1, Value(text, "gateway_errors_total", "team=\"Sweden\"", "model=\"\"", "error_type=\"invalid_request_error\""));
        Assert.Equal(3, Value(text, "gateway_request_duration_seconds_count", "team=\"Sweden\"", "model=\"metered-model\"", "status=\"200\""));
        Assert.Equal(3, Value(text, "gateway_time_to_first_byte_seconds_count", "team=\"Sweden\"", "model=\"metered-model\""));
        Assert.True(Value(text, "gateway_tokens_total", "team=\"Sweden\"", "type=\"prompt\"") > 0);
        Assert.True(Value(text, "gateway_tokens_total", "team=\"Sweden\"", "type=\"completion\"") > 0);
        Assert.True(Value(text, "gateway_spend_usd_total", "team=\"Sweden\"", "model=\"metered-model\"") > 0);
        // ASP.NET Core's and HttpClient's own meters come along.
        Assert.Contains("http_server_request_duration_seconds", text);
        // Management routes are in ASP.NET Core's meter by route; LLM calls only in the gateway's own, which has their team and model.
        Assert.True(Value(text, "http_server_request_duration_seconds_count", "http_route=\"/model/new\"", "http_request_method=\"POST\"") >= 1);
        // (The one 400 of this test is the LLM call with an unknown model.)
        Assert.Equal(0, Value(text, "http_server_request_duration_seconds_count", "http_request_method=\"POST\"", "http_response_status_code=\"400\""));
        Assert.Contains("http_client_request_duration_seconds", text);

        var internalName = model["model_name"]!.GetValue<string>();
        foreach (var secret in new[] { key, key[^5..] + "\"", "sk-provider-metered-secret-9f3a", internalName, "no-such-model-made-up-by-a-caller", GatewayFactory.MasterKey })
        {
            Assert.DoesNotContain(secret, text);
        }
    }

    [Fact]
    public async Task CallsInFlight_AreAGauge_ThatFallsBackWhenTheyEnd_AndNoMeterRecordsEveryCallTwice()
    {
        var admin = _gateway.Client();
        var team = (await (await admin.PostAsJsonAsync("/team/new", new { team_alias = "Norway" })).ReadJsonAsync(HttpStatusCode.OK))["team_id"]!.GetValue<string>();
        var key = await _gateway.GenerateKeyAsync(team);
        (await _gateway.Client(key).PostAsJsonAsync("/model/new", new
        {
            model_name = "held-model",
            litellm_params = new { model = "openai/gpt-4o", api_base = _upstream.ApiBase("gated", out var held), api_key = "sk-provider-held-1" },
            model_info = new { team_id = team },
        })).EnsureSuccessStatusCode();

        // A streamed answer the stand-in holds after its first chunk: the call stays in flight until it is released.
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "held-model", stream = true, messages = new[] { new { role = "user", content = "hi" } } }),
        };
        using var response = await _gateway.Client(key).SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Contains("Sunny", await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)));

        var during = await ScrapeUntilAsync("gateway_active_requests", l => Series().Match(l).Groups["value"].Value == "1");
        Assert.Equal(1, Value(during, "gateway_active_requests"));
        // ASP.NET Core's active requests and Kestrel's per-block pool counters are left out for their cost per call.
        Assert.DoesNotContain("http_server_active_requests", during);
        Assert.DoesNotContain("aspnetcore_memory_pool_rented", during);

        _upstream.Release(held);
        Assert.Contains("[DONE]", await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10)));
        var after = await ScrapeUntilAsync("gateway_active_requests", l => Series().Match(l).Groups["value"].Value == "0");
        Assert.Equal(0, Value(after, "gateway_active_requests"));
    }

    private static object Chat(string model) => new { model, messages = new[] { new { role = "user", content = "hi" } } };

    /// <summary>The exporter caches a scrape briefly: read until the awaited series shows up.</summary>
    private async Task<string> ScrapeUntilAsync(string series, Func<string, bool> ready)
    {
        var client = _gateway.Client(ScrapeToken);
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var text = await client.GetStringAsync("/metrics");
            if (text.Split('\n').Any(l => l.StartsWith(series, StringComparison.Ordinal) && ready(l)) || DateTime.UtcNow > deadline)
            {
                return text;
            }
            await Task.Delay(200);
        }
    }

    /// <summary>The sum of a metric's series whose labels include all of <paramref name="labels"/>.</summary>
    private static double Value(string text, string metric, params string[] labels) =>
        text.Split('\n')
            .Select(l => Series().Match(l))
            .Where(m => m.Success && m.Groups["name"].Value == metric && labels.All(m.Groups["labels"].Value.Contains))
            .Sum(m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));

    [GeneratedRegex(@"^(?<name>[a-z_]+)\{(?<labels>[^}]*)\} (?<value>[0-9.eE+-]+)")]
    private static partial Regex Series();
}
