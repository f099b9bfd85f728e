using System.Security.Claims;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Portal.Components.Pages.Teams;
using Proxy.Core.Access;
using Proxy.Core.Models;
using Proxy.Core.Persistence;
using Proxy.Core.Teams;
using Proxy.Core.Users;

namespace Portal.Tests.Components;

/// <summary>
/// The team page's Quick start card: this gateway's base URL and snippets for curl, the OpenAI SDKs, Claude Code and
/// Codex with the chosen public name and "&lt;your key&gt;", never a key; and how to get a key.
/// </summary>
public sealed class QuickStartCardTests : PortalUiContext
{
    private static ModelDeployment Model(string publicName, string provider) => new()
    {
        ModelId = Guid.NewGuid().ToString("N"), ModelName = $"model_name_t1_{Guid.NewGuid()}", TeamId = "t1", PublicName = publicName,
        Provider = provider, UpstreamModel = $"{provider}/{publicName}", ApiKeyCipher = "sealed", ApiKeyHint = "****cb07",
    };

    private IRenderedComponent<QuickStartCard> Render(params ModelDeployment[] models) => Render(p => { }, models);

    private IRenderedComponent<QuickStartCard> Render(Action<ComponentParameterCollectionBuilder<QuickStartCard>> more, params ModelDeployment[] models)
    {
        RenderProviders();
        return Ui.Render<QuickStartCard>(p =>
        {
            p.Add(c => c.TeamId, "t1").Add(c => c.Models, models);
            more(p);
        });
    }

    private const string Snippets = "[data-testid^=snippet-]";

    [Fact]
    public void AnthropicModel_BothSnippetsHaveTheGatewayAndThePublicName()
    {
        var card = Render(Model("team-claude", "anthropic"), Model("team-gpt", "openai"));

        var claude = card.Find("[data-testid=snippet-claude]").TextContent;
        Assert.Equal($"ANTHROPIC_BASE_URL=http://localhost ANTHROPIC_AUTH_TOKEN=\"<your key>\" claude --model team-claude", claude);
        Assert.Equal("http://localhost/", Ui.Services.GetRequiredService<NavigationManager>().BaseUri);
        var codex = card.Find("[data-testid=snippet-codex]").TextContent;
        Assert.Contains("-m team-claude ", codex);
        Assert.Empty(card.FindAll("[data-testid=note-claude]"));
        Assert.Equal(card.FindAll(Snippets).Select(s => s.TextContent).Prepend("http://localhost/v1"),
            card.FindComponents<Portal.Components.Shared.CopyButton>().Select(b => b.Instance.Text));
    }

    [Fact]
    public async Task SwitchingTheModel_ChangesTheSnippets()
    {
        var card = Render(Model("team-claude", "anthropic"), Model("team-gpt", "azure"));

        var select = card.FindComponent<MudSelect<string>>();
        await card.InvokeAsync(() => select.Instance.ValueChanged.InvokeAsync("team-gpt"));

        var codex = card.Find("[data-testid=snippet-codex]").TextContent;
        Assert.Contains("base_url=\"http://localhost/v1\"", codex);
        Assert.Contains("-m team-gpt ", codex);
        Assert.Contains("export GW_KEY=\"<your key>\"", codex);
        Assert.Contains("wire_api=\"responses\"", codex);
        Assert.DoesNotContain("team-claude", codex);
        Assert.EndsWith("claude --model team-gpt", card.Find("[data-testid=snippet-claude]").TextContent);
    }

    [Fact]
    public void OpenAIShapedModel_ClaudeCodeGetsTheOutputLimitNote()
    {
        var card = Render(Model("team-llama", "groq"));

        Assert.Contains("CLAUDE_CODE_MAX_OUTPUT_TOKENS", card.Find("[data-testid=note-claude]").TextContent);
        Assert.Equal(7, card.FindComponents<Portal.Components.Shared.CopyButton>().Count);
    }

    [Fact]
    public void NoModels_SaysRegisterAModelFirst()
    {
        var card = Render();

        Assert.StartsWith("The team has no models yet", card.Find("[data-testid=quick-start-empty]").TextContent);
        Assert.Empty(card.FindAll("pre"));
        Assert.Equal("http://localhost/v1", card.Find("[data-testid=base-url]").TextContent);
    }

    [Fact]
    public void NoRawKey_IsShown()
    {
        var card = Render(Model("team-claude", "anthropic"), Model("team-gpt", "openai"));

        Assert.DoesNotMatch(@"\bsk-", card.Markup);
        Assert.DoesNotContain("****cb07", card.Markup);
        Assert.All(card.FindComponents<Portal.Components.Shared.CopyButton>(), b => Assert.DoesNotContain("sk-", b.Instance.Text));
    }

    [Fact]
    public async Task WithoutModels_TheCardLoadsTheTeamsOwn_WithoutTheirUpstream()
    {
        Ui.Services.AddSingleton<Microsoft.AspNetCore.Identity.ILookupNormalizer, Microsoft.AspNetCore.Identity.UpperInvariantLookupNormalizer>();
        await using (var scope = Ui.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
            await Database.MigrateAsync(db);
            db.Users.Add(new PortalUser
            {
                Id = "ui-admin", Email = "someone@example.com", UserName = "someone@example.com", NormalizedUserName = "SOMEONE@EXAMPLE.COM",
                IsProxyAdmin = true, SecurityStamp = Guid.NewGuid().ToString("N"), CreatedAt = DateTime.UtcNow,
            });
            await db.SaveChangesAsync();
        }
        Auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, "ui-admin"));
        string teamId;
        await using (var writes = Ui.Services.CreateAsyncScope())
        {
            teamId = (await writes.ServiceProvider.GetRequiredService<TeamService>().CreateAsync(Caller.MasterKey, new TeamInput { TeamAlias = "ui" })).Team.TeamId;
            await writes.ServiceProvider.GetRequiredService<ModelService>().AddAsync(Caller.MasterKey,
                new ModelInput { ModelName = "team-claude", UpstreamModel = "anthropic/claude-sonnet-4-5", ApiKey = "sk-ant-provider-ui-0003", TeamId = teamId });
        }
        RenderProviders();

        var tab = Ui.Render<QuickStartCard>(p => p.Add(t => t.TeamId, teamId));

        tab.WaitForAssertion(() => Assert.Equal(
            "ANTHROPIC_BASE_URL=http://localhost ANTHROPIC_AUTH_TOKEN=\"<your key>\" claude --model team-claude",
            tab.Find("[data-testid=snippet-claude]").TextContent));
        Assert.Contains("-m team-claude ", tab.Find("[data-testid=snippet-codex]").TextContent);
        Assert.DoesNotContain("sk-ant-provider", tab.Find("[data-testid=quick-start]").InnerHtml);
    }

    [Fact]
    public void EverySnippet_NamesTheChosenModel_TheGateway_AndTheKeyPlaceholder()
    {
        var card = Render(Model("team-gpt", "openai"));

        var snippets = card.FindAll(Snippets).ToDictionary(s => s.GetAttribute("data-testid")!, s => s.TextContent);
        Assert.Equal(["snippet-curl", "snippet-python", "snippet-js", "snippet-dotnet", "snippet-claude", "snippet-codex"], snippets.Keys);
        Assert.All(snippets.Values, text => Assert.Contains("team-gpt", text));
        Assert.All(snippets.Values, text => Assert.Contains("<your key>", text));
        Assert.All(snippets.Values, text => Assert.Contains("http://localhost", text));
        Assert.Contains("curl http://localhost/v1/chat/completions", snippets["snippet-curl"]);
        Assert.Contains("OpenAI(base_url=\"http://localhost/v1\"", snippets["snippet-python"]);
        Assert.Contains("baseURL: \"http://localhost/v1\"", snippets["snippet-js"]);
        Assert.Contains("new ChatClient(\"team-gpt\"", snippets["snippet-dotnet"]);
    }

    [Fact]
    public void MemberWithoutKey_WhoMayCreateOne_GetsCreateMyKey()
    {
        var card = Render(p => p.Add(c => c.CanCreateOwnKey, true), Model("team-gpt", "openai"));

        Assert.Equal("Create my key", card.Find("[data-testid=create-my-key]").TextContent.Trim());
        Assert.Empty(card.FindAll("[data-testid=ask-admin]"));
    }

    [Fact]
    public void MemberWithoutKey_WhoMayNot_IsToldWhichAdminsToAsk()
    {
        var card = Render(p => p.Add(c => c.Admins, ["ada@example.com", "bob@example.com"]), Model("team-gpt", "openai"));

        Assert.Equal("You have no key for this team. Ask a team admin (ada@example.com, bob@example.com) for a key.", card.Find("[data-testid=ask-admin]").TextContent);
        Assert.Empty(card.FindAll("[data-testid=create-my-key]"));
    }

    [Fact]
    public void MemberWithAKey_IsToldWhereItGoes_AndTheAdminGetsTheSwitch()
    {
        var member = Render(p => p.Add(c => c.HasOwnKey, true).Add(c => c.CanCreateOwnKey, true), Model("team-gpt", "openai"));
        Assert.Contains("Put one of your keys", member.Find("[data-testid=key-hint]").TextContent);
        Assert.Empty(member.FindAll("[data-testid=create-my-key]"));
        Assert.Empty(member.FindAll("[data-testid=self-service-switch]"));

        var admin = Ui.Render<QuickStartCard>(p => p.Add(c => c.TeamId, "t1").Add(c => c.Models, [Model("team-gpt", "openai")]).Add(c => c.IsAdmin, true).Add(c => c.SelfService, true));
        Assert.True(admin.Find("input[type=checkbox]").HasAttribute("checked"));
        Assert.Empty(admin.FindAll("[data-testid=ask-admin]"));
    }
}
