using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.CodingTools;

/// <summary>
/// The real Codex CLI (pinned in tests/tools/package.json, installed by .ci/install-test-tools) pointed at the gateway
/// as a <c>responses</c> provider with a team key, offline: one <c>codex exec</c> turn goes through <c>POST /v1/responses</c>
/// to the team's chat-only model (an Anthropic deployment, or an OpenAI-compatible one), translated through chat
/// completions, with the team's own provider key, and the answer comes back as <c>response.*</c> events to the CLI's stdout.
/// </summary>
[Trait("Category", "CodingTools")]
public sealed class CodexTests(LlmFixture fixture) : IClassFixture<LlmFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    private GatewayFactory Gateway => fixture.Gateway;
    private StandInUpstream Upstream => fixture.Upstream;

    [Fact]
    public async Task InstalledCodex_IsTheVersionPinnedInTestsTools()
    {
        var run = await NodeTools.RunAsync(NodeTools.Codex, ["--version"], Path.GetTempPath(), new Dictionary<string, string>(), Timeout);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal($"codex-cli {NodeTools.PinnedVersion("@openai/codex")}", run.Stdout.Trim());
    }

    [Theory]
    [InlineData("anthropic/claude-sonnet-4-5", "sk-ant-team-codex-0001", "claudecode", "/v1/messages", "Hello from the team's Claude.")]
    [InlineData("groq/llama-3.3-70b", "sk-groq-team-codex-0001", "gptcode", "/chat/completions", "Hello from the team's GPT.")]
    public async Task Codex_OneTurn_OnATeamsChatOnlyModel_IsTranslated_WithTheTeamsKey(string model, string providerKey, string scenario, string upstreamPath, string answer)
    {
        var team = await Gateway.CreateTeamAsync();
        var gatewayKey = await Gateway.GenerateKeyAsync(team);
        await (await Gateway.Client(gatewayKey).PostAsJsonAsync("/model/new", new JsonObject
        {
            ["model_name"] = "team-model",
            ["litellm_params"] = new JsonObject { ["model"] = model, ["api_key"] = providerKey, ["api_base"] = Upstream.ApiBase(scenario, out var upstream) },
            ["model_info"] = new JsonObject { ["team_id"] = team },
        })).ReadJsonAsync(HttpStatusCode.OK);

        var run = await CodexAsync(Gateway.BaseAddress.ToString().TrimEnd('/'), gatewayKey, "team-model");

        var received = Upstream.ReceivedBy(upstream);
        var seen = $"{run}\n--- the stand-in received ---\n{string.Join("\n", received.Select(r => $"{r.Method} {r.Path} ({r.Raw.Length} bytes)"))}" +
            "\n--- gateway log ---\n" + string.Join("\n", Gateway.Logs.Where(l => l.Contains("/v1/responses", StringComparison.Ordinal) || l.StartsWith("Warning") || l.StartsWith("Error")).TakeLast(20));
        Assert.True(run.ExitCode == 0, seen);
        Assert.Contains(answer, run.Stdout);
        Assert.NotEmpty(received);
        foreach (var request in received)
        {
            Assert.EndsWith(upstreamPath, request.Path);
            Assert.Contains(providerKey, string.Join("\n", request.Headers.Values));
            Assert.DoesNotContain(request.Headers, h => h.Value.Contains(gatewayKey, StringComparison.Ordinal));
            Assert.DoesNotContain(gatewayKey, request.Body);
        }
        // Codex's own request (its instructions and tools) reaches the deployment.
        Assert.Contains(received, r => r.Json["tools"] is JsonArray { Count: > 0 });
        var logs = await Spend.Spend.LogsAsync(Gateway, team, expected: received.Count);
        Assert.Equal(received.Count, logs.Count);
        Assert.All(logs, l => Assert.False(l["tokens_estimated"]!.GetValue<bool>()));
    }

    /// <summary>One <c>codex exec "say hi"</c> turn against <paramref name="baseUrl"/>, in a fresh CODEX_HOME, nothing on stdin.</summary>
    private static async Task<ToolRun> CodexAsync(string baseUrl, string key, string model)
    {
        var home = Directory.CreateTempSubdirectory("codex-home-");
        try
        {
            var work = home.CreateSubdirectory("work");
            return await NodeTools.RunAsync(NodeTools.Codex,
            [
                "exec", "--skip-git-repo-check", "-c", "model_provider=gw",
                "-c", $"model_providers.gw={{name=\"gw\",base_url=\"{baseUrl}/v1\",env_key=\"GW_KEY\",wire_api=\"responses\"}}",
                "-m", model, "say hi",
            ], work.FullName, new Dictionary<string, string>
            {
                ["HOME"] = home.FullName,
                ["CODEX_HOME"] = home.FullName,
                ["GW_KEY"] = key,
                ["NO_PROXY"] = "127.0.0.1,localhost",
            }, Timeout);
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }
}
