using System.Security.Claims;
using Bunit;
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
/// The models tab shows deployments under their public name, and says which of a team's models has no known price
/// (their calls are not counted as spend).
/// </summary>
public sealed class ModelsTabTests : PortalUiContext
{
    // TeamService finds members by normalised email, as Identity does in the host.
    public ModelsTabTests() =>
        Ui.Services.AddSingleton<Microsoft.AspNetCore.Identity.ILookupNormalizer, Microsoft.AspNetCore.Identity.UpperInvariantLookupNormalizer>();

    private async Task<string> SeedAsync()
    {
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
        await using var writes = Ui.Services.CreateAsyncScope();
        var team = (await writes.ServiceProvider.GetRequiredService<TeamService>().CreateAsync(Caller.MasterKey, new TeamInput { TeamAlias = "ui" })).Team.TeamId;
        var models = writes.ServiceProvider.GetRequiredService<ModelService>();
        await models.AddAsync(Caller.MasterKey, new ModelInput
        {
            ModelName = "priced", UpstreamModel = "openai/gpt-4o", ApiKey = "sk-provider-ui-0003", TeamId = team,
        });
        await models.AddAsync(Caller.MasterKey, new ModelInput
        {
            ModelName = "local-llama", UpstreamModel = "hosted_vllm/meta-llama/Llama-3.3-70B-Instruct", ApiBase = "https://vllm.example.com/v1", TeamId = team,
        });
        return team;
    }

    [Fact]
    public async Task AnUnpricedModel_SaysSpendIsNotTracked_APricedOneDoesNot()
    {
        var teamId = await SeedAsync();
        RenderProviders();

        var tab = Ui.Render<ModelsTab>(p => p.Add(t => t.TeamId, teamId).Add(t => t.CanManage, true));

        tab.WaitForAssertion(() => Assert.Equal(2, tab.FindAll("[data-testid=model-name]").Count));
        var rows = tab.FindAll("tr").Where(r => r.QuerySelector("[data-testid=deployment]") is not null).ToList();
        var local = Assert.Single(rows, r => r.QuerySelector("[data-testid=deployment]")!.GetAttribute("data-group") == "local-llama");
        var priced = Assert.Single(rows, r => r.QuerySelector("[data-testid=deployment]")!.GetAttribute("data-group") == "priced");
        Assert.Equal("no price: spend not tracked", local.QuerySelector("[data-testid=no-price]")!.TextContent.Trim());
        Assert.Null(priced.QuerySelector("[data-testid=no-price]"));
    }

    [Fact]
    public async Task DeploymentsSharingAPublicName_ShowUnderOneHeader_WithTheirCount()
    {
        var teamId = await SeedAsync();
        await using (var scope = Ui.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ModelService>().AddAsync(Caller.MasterKey, new ModelInput
            {
                ModelName = "priced", UpstreamModel = "openai/gpt-4o-mini", ApiBase = "https://eu.example.com/v1", ApiKey = "sk-provider-ui-0004", TeamId = teamId,
                ExtraParams = """{"weight": 3, "order": 2}""",
            });
        }
        RenderProviders();

        var tab = Ui.Render<ModelsTab>(p => p.Add(t => t.TeamId, teamId).Add(t => t.CanManage, true));

        tab.WaitForAssertion(() => Assert.Equal(3, tab.FindAll("[data-testid=deployment]").Count));
        var headers = tab.FindAll("[data-testid=model-group]");
        Assert.Equal(["priced", "local-llama"], headers.Select(h => h.QuerySelector("[data-testid=model-name]")!.TextContent.Trim()));
        Assert.Equal("2 deployments · traffic shared", headers[0].QuerySelector("[data-testid=model-group-count]")!.TextContent.Trim());
        Assert.Equal("1 deployment", headers[1].QuerySelector("[data-testid=model-group-count]")!.TextContent.Trim());
        var second = tab.FindAll("tr").Single(r => r.TextContent.Contains("openai/gpt-4o-mini"));
        Assert.Equal("eu.example.com/v1", second.QuerySelector("[data-testid=deployment-api-base]")!.TextContent);
        Assert.Equal("3", second.QuerySelector("[data-testid=deployment-weight]")!.TextContent.Trim());
        Assert.Equal("2", second.QuerySelector("[data-testid=deployment-order]")!.TextContent.Trim());
        Assert.Equal(2, headers.Count(h => h.QuerySelector("[data-testid=add-deployment]") is not null));
    }
}
