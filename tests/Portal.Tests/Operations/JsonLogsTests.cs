using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Operations;

/// <summary>The gateway's console as a log shipper reads it, from a real process: one JSON object per line, each line of a call carrying its call id.</summary>
public sealed class JsonLogsTests
{
    [Fact]
    public async Task WithTheJsonFormatter_EveryLineIsJson_AndACallsLinesCarryItsCallId_AndNoSecret()
    {
        await using var gateway = await GatewayProcess.StartAsync(GatewayProcess.BuildOutputDll, settings: new() { ["Logging__Console__FormatterName"] = "json" });
        var admin = gateway.Client();
        var team = (await (await admin.PostAsJsonAsync("/team/new", new { team_alias = "logged" })).ReadJsonAsync(HttpStatusCode.OK))["team_id"]!.GetValue<string>();
        var key = (await (await admin.PostAsJsonAsync("/key/generate", new { team_id = team })).ReadJsonAsync(HttpStatusCode.OK))["key"]!.GetValue<string>();
        // Nothing listens on port 9 of loopback: the upstream call fails, and the gateway logs it.
        (await admin.PostAsJsonAsync("/model/new", new
        {
            model_name = "unreachable",
            litellm_params = new { model = "openai/gpt-4o", api_base = "http://127.0.0.1:9/v1", api_key = "sk-provider-logged-secret-77aa" },
            model_info = new { team_id = team },
        })).EnsureSuccessStatusCode();

        var response = await gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", new { model = "unreachable", messages = new[] { new { role = "user", content = "hi" } } });
        await response.ReadErrorAsync(HttpStatusCode.BadGateway, "upstream_error");
        var callId = response.Headers.GetValues("x-litellm-call-id").Single();

        var lines = await WaitForAsync(gateway, callId);
        var parsed = lines.Select(l => (Line: l, Json: TryParse(l))).ToList();
        Assert.All(parsed, p => Assert.True(p.Json is not null, $"not JSON: {p.Line}"));
        var ofTheCall = parsed.Where(p => CallIds(p.Json!).Contains(callId)).ToList();
        Assert.Contains(ofTheCall, p => p.Json!["Category"]!.GetValue<string>() == "Proxy.Core.Forwarding.LlmProxy" && p.Json["Message"]!.GetValue<string>().Contains("unreachable"));
        Assert.Contains(ofTheCall, p => p.Json!["Category"]!.GetValue<string>() == "Portal.Errors");
        foreach (var secret in new[] { GatewayProcess.MasterKey, key, "sk-provider-logged-secret-77aa", GatewayProcess.AdminPassword })
        {
            Assert.DoesNotContain(lines, l => l.Contains(secret, StringComparison.Ordinal));
        }
    }

    private static async Task<List<string>> WaitForAsync(GatewayProcess gateway, string text)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!gateway.Output.Any(l => l.Contains(text, StringComparison.Ordinal) && l.Contains("Portal.Errors", StringComparison.Ordinal)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        return [.. gateway.Output];
    }

    private static JsonObject? TryParse(string line)
    {
        try
        {
            return JsonNode.Parse(line) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static IEnumerable<string> CallIds(JsonObject line) =>
        (line["Scopes"] as JsonArray ?? []).OfType<JsonObject>().Select(s => s["CallId"]?.GetValue<string>()).OfType<string>();
}
