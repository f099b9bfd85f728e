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

/// <summary>The team page's coding-tools card: snippets with this gateway's address and the chosen public name, never a key.</summary>
public sealed class CodingToolsCardTests : PortalUiContext
{
    private static ModelDeployment Model(string publicName, string provider) => new()
    {
        ModelId = Guid.NewGuid().ToString("N"), ModelName = $"model_name_t1_{Guid.NewGuid()}", TeamId = "t1", PublicName = publicName,
        Provider = provider, UpstreamModel = $"{provider}/{publicName}", ApiKeyCipher = "sealed", ApiKeyHint = "****cb07",
    };

    private IRenderedComponent<CodingToolsCard> Render(params ModelDeployment[] models)
    {
        RenderProviders();
        return Ui.Render<CodingToolsCard>(p => p.Add(c => c.Models, models));
    }

    [Fact]
    public void AnthropicModel_BothSnippetsHaveTheGatewayAndThePublicName()
    {
        var card = Render(Model("team-claude", "anthropic"), Model("team-gpt", "openai"));

        var claude = card.Find("[data-testid=snippet-claude]").TextContent;
        Assert.Equal($"ANTHROPIC_BASE_URL=http://localhost ANTHROPIC_AUTH_TOKEN=\"<your team key>\" claude --model team-claude", claude);
        Assert.Equal("http://localhost/", Ui.Services.GetRequiredService<NavigationManager>().BaseUri);
        var codex = card.Find("[data-testid=snippet-codex]").TextContent;
        Assert.Contains("-m team-claude ", codex);
        Assert.Empty(card.FindAll("[data-testid=note-claude]"));
        Assert.Equal([claude, codex], card.FindComponents<Portal.Components.Shared.CopyButton>().Select(b => b.Instance.Text));
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
        Assert.Contains("export GW_KEY=\"<your team key>\"", codex);
        Assert.Contains("wire_api=\"responses\"", codex);
        Assert.DoesNotContain("team-claude", codex);
        Assert.EndsWith("claude --model team-gpt", card.Find("[data-testid=snippet-claude]").TextContent);
    }

    [Fact]
    public void OpenAIShapedModel_ClaudeCodeGetsTheOutputLimitNote()
    {
        var card = Render(Model("team-llama", "groq"));

        Assert.Contains("CLAUDE_CODE_MAX_OUTPUT_TOKENS", card.Find("[data-testid=note-claude]").TextContent);
        Assert.Equal(2, card.FindComponents<Portal.Components.Shared.CopyButton>().Count);
    }

    [Fact]
    public void NoModels_SaysRegisterAModelFirst()
    {
        var card = Render();

        Assert.StartsWith("Register a model first", card.Find("[data-testid=coding-tools-empty]").TextContent);
        Assert.Empty(card.FindAll("pre"));
    }

    [Fact]
    public void NoRawKey_IsShown()
    {
        var card = Render(Model("team-claude", "anthropic"), Model("team-gpt", "openai"));

        Assert.DoesNotContain("sk-", card.Markup);
        Assert.DoesNotContain("****cb07", card.Markup);
        Assert.All(card.FindComponents<Portal.Components.Shared.CopyButton>(), b => Assert.DoesNotContain("sk-", b.Instance.Text));
    }

    [Fact]
    public async Task ModelsTab_ShowsTheCard_WithTheTeamsPublicNameAndProvider()
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

        var tab = Ui.Render<ModelsTab>(p => p.Add(t => t.TeamId, teamId));

        tab.WaitForAssertion(() => Assert.Equal(
            "ANTHROPIC_BASE_URL=http://localhost ANTHROPIC_AUTH_TOKEN=\"<your team key>\" claude --model team-claude",
            tab.Find("[data-testid=snippet-claude]").TextContent));
        Assert.Contains("-m team-claude ", tab.Find("[data-testid=snippet-codex]").TextContent);
        Assert.DoesNotContain("sk-ant-provider", tab.Find("[data-testid=coding-tools]").InnerHtml);
    }
}
