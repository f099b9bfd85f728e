using System.Security.Claims;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Portal.Components.Pages.Teams;
using Proxy.Core.Access;
using Proxy.Core.Models;
using Proxy.Core.Persistence;
using Proxy.Core.Providers;
using Proxy.Core.Teams;
using Proxy.Core.Users;

namespace Portal.Tests.Components;

/// <summary>
/// The register-model form tells the user what is wrong before anything is sent, saves through the core itself, and
/// keeps what was typed when the core refuses, with the reason on the field it concerns.
/// </summary>
public sealed class ModelDialogTests : PortalUiContext
{
    public ModelDialogTests() =>
        Ui.Services.AddSingleton<Microsoft.AspNetCore.Identity.ILookupNormalizer, Microsoft.AspNetCore.Identity.UpperInvariantLookupNormalizer>();

    private async Task<(IRenderedComponent<MudDialogProvider> Provider, IDialogReference Dialog)> OpenAsync(string? teamId = null)
    {
        var provider = RenderProviders();
        var dialogs = Ui.Services.GetRequiredService<IDialogService>();
        var parameters = new DialogParameters<ModelDialog> { { d => d.TeamId, teamId } };
        var dialog = await provider.InvokeAsync(() => dialogs.ShowAsync<ModelDialog>("Register model", parameters));
        return (provider, dialog);
    }

    /// <summary>A team, and the signed-in user as a proxy admin who may register its models.</summary>
    private async Task<string> SeedTeamAsync()
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
        return (await writes.ServiceProvider.GetRequiredService<TeamService>().CreateAsync(Caller.MasterKey, new TeamInput { TeamAlias = "ui" })).Team.TeamId;
    }

    private static async Task FillAsync(IRenderedComponent<MudDialogProvider> provider, string publicName, string upstream, string? apiBase, string apiKey)
    {
        await provider.Find("#model-public-name").ChangeAsync(new ChangeEventArgs { Value = publicName });
        await provider.Find("#model-upstream").ChangeAsync(new ChangeEventArgs { Value = upstream });
        if (apiBase is not null)
        {
            await provider.Find("#model-api-base").ChangeAsync(new ChangeEventArgs { Value = apiBase });
        }
        await provider.Find("#model-api-key").ChangeAsync(new ChangeEventArgs { Value = apiKey });
    }

    private async Task<IReadOnlyList<ModelDeployment>> DeploymentsAsync(string teamId)
    {
        await using var scope = Ui.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ModelService>().ListAsync(Caller.MasterKey, teamId);
    }

    [Fact]
    public async Task EmptyForm_ShowsWhatIsMissing_AndDoesNotClose()
    {
        var (provider, dialog) = await OpenAsync();

        await provider.Find("form#model-form").SubmitAsync();

        Assert.Contains("Give the model a public name.", provider.Markup);
        Assert.Contains("Name the provider's model or deployment.", provider.Markup);
        Assert.False(dialog.Result.IsCompleted);
    }

    [Fact]
    public async Task Registration_WithoutAProviderKey_AsksForIt()
    {
        var (provider, dialog) = await OpenAsync();

        await provider.Find("#model-public-name").ChangeAsync(new Microsoft.AspNetCore.Components.ChangeEventArgs { Value = "m" });
        await provider.Find("#model-upstream").ChangeAsync(new Microsoft.AspNetCore.Components.ChangeEventArgs { Value = "gpt-4o" });
        await provider.Find("form#model-form").SubmitAsync();

        Assert.Contains("Enter the provider's API key.", provider.Markup);
        Assert.False(dialog.Result.IsCompleted);
    }

    [Fact]
    public async Task NonHttpApiBase_IsRefused()
    {
        var (provider, dialog) = await OpenAsync();

        await provider.Find("#model-public-name").ChangeAsync(new Microsoft.AspNetCore.Components.ChangeEventArgs { Value = "m" });
        await provider.Find("#model-upstream").ChangeAsync(new Microsoft.AspNetCore.Components.ChangeEventArgs { Value = "gpt-4o" });
        await provider.Find("#model-api-base").ChangeAsync(new Microsoft.AspNetCore.Components.ChangeEventArgs { Value = "ftp://example.com" });
        await provider.Find("#model-api-key").ChangeAsync(new Microsoft.AspNetCore.Components.ChangeEventArgs { Value = "sk-provider" });
        await provider.Find("form#model-form").SubmitAsync();

        Assert.Contains("absolute http(s) URL", provider.Markup);
        Assert.False(dialog.Result.IsCompleted);
    }

    [Fact]
    public async Task ValidOpenAIForm_RegistersTheSameDeploymentTheRestApiWould_AndCloses()
    {
        var teamId = await SeedTeamAsync();
        var (provider, dialog) = await OpenAsync(teamId);

        await FillAsync(provider, "my-team-model", "gpt-4o", null, "sk-provider-key-0001");
        await provider.Find("form#model-form").SubmitAsync();

        var result = await dialog.Result.WaitAsync(TimeSpan.FromSeconds(5));
        var saved = Assert.IsType<ModelDeployment>(result!.Data);
        Assert.Equal("my-team-model", saved.PublicName);
        Assert.Equal("openai/gpt-4o", saved.UpstreamModel);
        Assert.Null(saved.ApiBase);
        Assert.Equal("****0001", ModelService.MaskedKey(Assert.Single(await DeploymentsAsync(teamId))));
    }

    [Fact]
    public async Task ARefusedApiBase_KeepsTheDialogAndWhatWasTyped_WithThePlainReasonOnTheField()
    {
        var teamId = await SeedTeamAsync();
        var (provider, dialog) = await OpenAsync(teamId);

        await FillAsync(provider, "metadata-model", "gpt-4o", "http://169.254.169.254/v1", "sk-provider-key-0002");
        await provider.Find("form#model-form").SubmitAsync();

        provider.WaitForAssertion(() => Assert.Contains("points into a network the gateway may not call (169.254.169.254)", provider.Markup));
        var field = provider.Find("#model-api-base").Closest(".mud-input-control")!;
        Assert.Contains("Proxy:Upstreams:DeniedNetworks", field.TextContent);
        Assert.DoesNotContain("litellm_params", provider.Markup);
        Assert.Equal("http://169.254.169.254/v1", provider.Find("#model-api-base").GetAttribute("value"));
        Assert.Equal("metadata-model", provider.Find("#model-public-name").GetAttribute("value"));
        Assert.False(dialog.Result.IsCompleted);
        Assert.Empty(await DeploymentsAsync(teamId));
    }

    [Fact]
    public async Task AnExistingPublicName_AsksFirst_AndAddsADeploymentOnlyWhenChosen()
    {
        var teamId = await SeedTeamAsync();
        await using (var scope = Ui.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ModelService>().AddAsync(Caller.MasterKey, new ModelInput
            {
                ModelName = "my-team-model", UpstreamModel = "openai/gpt-4o", ApiKey = "sk-provider-key-0003", TeamId = teamId,
            });
        }
        var (provider, dialog) = await OpenAsync(teamId);

        await FillAsync(provider, "my-team-model", "gpt-4o-mini", "https://eu.example.com/v1", "sk-provider-key-0004");
        await provider.Find("form#model-form").SubmitAsync();

        provider.WaitForAssertion(() => Assert.Equal(
            "my-team-model already exists: add a deployment to it (traffic is shared) or choose another name.",
            provider.Find("[data-testid=model-name-taken] p").TextContent.Trim()));
        Assert.False(dialog.Result.IsCompleted);
        Assert.Single(await DeploymentsAsync(teamId));

        await provider.Find("[data-testid=model-join]").ClickAsync(new());

        var result = await dialog.Result.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("my-team-model", Assert.IsType<ModelDeployment>(result!.Data).PublicName);
        var deployments = await DeploymentsAsync(teamId);
        Assert.Equal(2, deployments.Count);
        Assert.Single(deployments.Select(d => d.ModelName).Distinct());
    }

    [Fact]
    public async Task ARefusalOfNoField_ShowsAtTheTop_AndTheDialogStays()
    {
        var teamId = await SeedTeamAsync();
        Auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, "someone-unknown"));
        var (provider, dialog) = await OpenAsync(teamId);

        await FillAsync(provider, "my-team-model", "gpt-4o", null, "sk-provider-key-0005");
        await provider.Find("form#model-form").SubmitAsync();

        provider.WaitForAssertion(() => Assert.NotEmpty(provider.Find("[data-testid=model-refusal]").TextContent.Trim()));
        Assert.False(dialog.Result.IsCompleted);
        Assert.Empty(await DeploymentsAsync(teamId));
    }

    [Fact]
    public void CoreRefusals_LandOnTheFieldsTheyName()
    {
        Assert.Equal(nameof(ModelForm.ApiBase), ModelForm.FieldOf("litellm_params.api_base"));
        Assert.Equal(nameof(ModelForm.PublicName), ModelForm.FieldOf("model_name"));
        Assert.Equal(nameof(ModelForm.ApiKey), ModelForm.FieldOf("litellm_params.api_key"));
        Assert.Null(ModelForm.FieldOf("model_info.team_id"));
    }

    [Fact]
    public void AzureWithoutApiBase_IsInvalid()
    {
        var form = new ModelForm { Provider = Provider.Azure, PublicName = "m", UpstreamModel = "dep", ApiKey = "k", ApiBase = null };

        var errors = form.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(form)).ToList();

        Assert.Contains(errors, e => e.MemberNames.Contains(nameof(ModelForm.ApiBase)));
    }

    [Fact]
    public void Edit_WithBlankKey_KeepsTheStoredKey()
    {
        var form = new ModelForm { PublicName = "m", UpstreamModel = "gpt-4o", ApiKey = " ", IsEdit = true };

        Assert.Empty(form.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(form)));
        Assert.Null(form.ToInput().ApiKey);
    }
}
