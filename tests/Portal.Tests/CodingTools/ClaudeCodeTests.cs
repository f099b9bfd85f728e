using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.CodingTools;

/// <summary>
/// The real Claude Code CLI (pinned in tests/tools/package.json, installed by .ci/install-test-tools) pointed at the
/// gateway with a team key, offline: one <c>claude -p</c> turn goes through <c>POST /v1/messages</c> to the team's
/// Anthropic deployment (the stand-in, which checks headers and body as Anthropic does and streams Anthropic's events)
/// with the team's own Anthropic key, and the answer comes back to the CLI's stdout.
/// </summary>
[Trait("Category", "CodingTools")]
public sealed class ClaudeCodeTests(ClaudeCodeTests.Fixture fixture) : IClassFixture<ClaudeCodeTests.Fixture>
{
    private const string TeamAnthropicKey = "sk-ant-team-claude-code-0001";
    private const string PublicModel = "team-claude";
    private const string UpstreamModel = "claude-sonnet-4-5";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private GatewayFactory Gateway => fixture.Gateway;
    private StandInUpstream Upstream => fixture.Upstream;

    [Fact]
    public async Task InstalledClaudeCode_IsTheVersionPinnedInTestsTools()
    {
        var run = await NodeTools.RunAsync(NodeTools.ClaudeCode, ["--version"], Path.GetTempPath(), new Dictionary<string, string>(), Timeout);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.StartsWith(NodeTools.PinnedVersion("@anthropic-ai/claude-code") + " ", run.Stdout.Trim() + " ");
    }

    /// <summary>
    /// ANTHROPIC_AUTH_TOKEN makes the CLI send <c>Authorization: Bearer</c>, ANTHROPIC_API_KEY sends <c>x-api-key</c>;
    /// the gateway takes its key from either and sends the team's Anthropic key, never its own, upstream.
    /// </summary>
    [Theory]
    [InlineData("ANTHROPIC_AUTH_TOKEN")]
    [InlineData("ANTHROPIC_API_KEY")]
    public async Task ClaudeCode_OneTurn_ThroughTheGateway_ReachesTheTeamsAnthropicDeployment_WithTheTeamsKey(string keyVariable)
    {
        var team = await Gateway.CreateTeamAsync();
        var gatewayKey = await Gateway.GenerateKeyAsync(team);
        await (await Gateway.Client(gatewayKey).PostAsJsonAsync("/model/new", new JsonObject
        {
            ["model_name"] = PublicModel,
            ["litellm_params"] = new JsonObject
            {
                ["model"] = $"anthropic/{UpstreamModel}",
                ["custom_llm_provider"] = "anthropic",
                ["api_key"] = TeamAnthropicKey,
                ["api_base"] = Upstream.ApiBase("claudecode", out var upstream),
            },
            ["model_info"] = new JsonObject { ["team_id"] = team, ["input_cost_per_token"] = 3e-06, ["output_cost_per_token"] = 1.5e-05 },
        })).ReadJsonAsync(HttpStatusCode.OK);

        var run = await ClaudeAsync(Gateway.BaseAddress.ToString().TrimEnd('/'), keyVariable, gatewayKey);

        var received = Upstream.ReceivedBy(upstream);
        var seen = $"{run}\n--- the stand-in received ---\n{string.Join("\n", received.Select(r => $"{r.Method} {r.Path}{r.Query} ({r.Raw.Length} bytes)"))}" +
            $"\n--- gateway log (its requests to /v1/messages, warnings and errors) ---\n" +
            string.Join("\n", Gateway.Logs.Where(l => l.Contains("/v1/messages", StringComparison.Ordinal) || l.StartsWith("Warning") || l.StartsWith("Error")).TakeLast(20));
        Assert.True(run.ExitCode == 0, seen);
        Assert.Contains(AnthropicStandIn.CodingToolAnswer, run.Stdout);
        Assert.NotEmpty(received);
        var turn = received.FirstOrDefault(r => r.Json["stream"]?.GetValue<bool>() == true);
        Assert.True(turn is not null, "No streamed Messages request reached the team's deployment.\n" + seen);
        foreach (var request in received)
        {
            Assert.Equal("POST", request.Method);
            Assert.EndsWith("/v1/messages", request.Path);
            Assert.Equal(TeamAnthropicKey, request.Header("x-api-key"));
            Assert.Null(request.Header("authorization"));
            Assert.DoesNotContain(request.Headers, h => h.Value.Contains(gatewayKey, StringComparison.Ordinal));
            Assert.DoesNotContain(gatewayKey, request.Body);
            Assert.Equal(UpstreamModel, request.Json["model"]!.GetValue<string>());
        }
        // Claude Code's own request (its system prompt and tool definitions) reaches the deployment.
        Assert.NotEmpty(turn.Json["tools"]!.AsArray());
        Assert.NotNull(turn.Json["system"]);
        var logs = await Spend.Spend.LogsAsync(Gateway, team, expected: received.Count);
        Assert.Equal(received.Count, logs.Count);
        Assert.Contains(logs, l => l["prompt_tokens"]!.GetValue<int>() == 21 && l["completion_tokens"]!.GetValue<int>() == 12);
    }

    /// <summary>
    /// Claude Code on a team's OpenAI model: its Messages request (system blocks with cache_control, tools, thinking,
    /// context_management, metadata) reaches the OpenAI stand-in as a chat completion with the team's OpenAI key, and
    /// the chat answer comes back as Anthropic's event stream, which the CLI prints.
    /// </summary>
    [Fact]
    public async Task ClaudeCode_OnATeamsOpenAIModel_IsTranslatedToChatCompletions_AndBack()
    {
        var team = await Gateway.CreateTeamAsync();
        var gatewayKey = await Gateway.GenerateKeyAsync(team);
        await (await Gateway.Client(gatewayKey).PostAsJsonAsync("/model/new", new JsonObject
        {
            ["model_name"] = "team-gpt",
            ["litellm_params"] = new JsonObject { ["model"] = "openai/gpt-4o", ["api_key"] = "sk-openai-team-claude-code-0002", ["api_base"] = Upstream.ApiBase("gptcode", out var upstream) },
            ["model_info"] = new JsonObject { ["team_id"] = team },
        })).ReadJsonAsync(HttpStatusCode.OK);

        var run = await ClaudeAsync(Gateway.BaseAddress.ToString().TrimEnd('/'), "ANTHROPIC_AUTH_TOKEN", gatewayKey, "team-gpt");

        var received = Upstream.ReceivedBy(upstream);
        var seen = $"{run}\n--- the stand-in received ---\n{string.Join("\n", received.Select(r => $"{r.Method} {r.Path} ({r.Raw.Length} bytes)"))}" +
            "\n--- gateway log ---\n" + string.Join("\n", Gateway.Logs.Where(l => l.Contains("/v1/messages", StringComparison.Ordinal) || l.StartsWith("Warning") || l.StartsWith("Error")).TakeLast(20));
        Assert.True(run.ExitCode == 0, seen);
        Assert.Contains("Hello from the team's GPT.", run.Stdout);
        var turn = received.FirstOrDefault(r => r.Json["stream"]?.GetValue<bool>() == true);
        Assert.True(turn is not null, "No streamed chat completion reached the team's deployment.\n" + seen);
        Assert.All(received, r =>
        {
            Assert.EndsWith("/chat/completions", r.Path);
            Assert.Equal("Bearer sk-openai-team-claude-code-0002", r.Header("authorization"));
            Assert.DoesNotContain(gatewayKey, r.Body);
        });
        Assert.NotEmpty(turn.Json["tools"]!.AsArray());
        Assert.Equal("system", turn.Json["messages"]![0]!["role"]!.GetValue<string>());
        var logs = await Spend.Spend.LogsAsync(Gateway, team, expected: received.Count);
        Assert.Contains(logs, l => l["prompt_tokens"]!.GetValue<int>() == OpenAIChatStandIn.PromptTokens && !l["tokens_estimated"]!.GetValue<bool>());
    }

    /// <summary>
    /// A gateway that also records each request it answers (method, path, status, body size), shown when a run fails:
    /// the gateway turns ASP.NET Core's own request log off.
    /// </summary>
    public sealed class Fixture() : LlmFixture(new GatewayFactory
    {
        ExtraServices = services => services.AddSingleton<IStartupFilter, AnswerLog>(),
    });

    private sealed class AnswerLog(ILogger<AnswerLog> logger) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (http, inner) =>
            {
                try
                {
                    await inner(http);
                }
                finally
                {
                    logger.LogInformation("Answered {Method} {Path}{Query} ({Length} bytes) with {Status}",
                        http.Request.Method, http.Request.Path, http.Request.QueryString, http.Request.ContentLength, http.Response.StatusCode);
                }
            });
            next(app);
        };
    }

    /// <summary>One <c>claude -p "say hi"</c> turn against <paramref name="baseUrl"/>, in a fresh HOME, nothing on stdin.</summary>
    private static async Task<ToolRun> ClaudeAsync(string baseUrl, string keyVariable, string key, string model = PublicModel)
    {
        var home = Directory.CreateTempSubdirectory("claude-home-");
        try
        {
            var work = home.CreateSubdirectory("work");
            return await NodeTools.RunAsync(NodeTools.ClaudeCode, ["-p", "say hi", "--model", model], work.FullName, new Dictionary<string, string>
            {
                ["HOME"] = home.FullName,
                ["XDG_CONFIG_HOME"] = Path.Combine(home.FullName, ".config"),
                ["ANTHROPIC_BASE_URL"] = baseUrl,
                [keyVariable] = key,
                ["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1",
                ["DISABLE_AUTOUPDATER"] = "1",
                ["NO_PROXY"] = "127.0.0.1,localhost",
            }, Timeout);
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }
}
