using System.Security.Claims;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Portal.Components.Pages.Teams;
using Portal.Tests.Components;
using Proxy.Core.Access;
using Proxy.Core.Models;
using Proxy.Core.Persistence;
using Proxy.Core.Secrets;
using Proxy.Core.Teams;
using Proxy.Core.Users;

namespace Portal.Tests.Providers;

/// <summary>
/// The model dialog's Amazon Bedrock fields: picking Bedrock asks for the AWS keys and region instead of an API key and
/// API base, registers the same deployment /model/new would, and on edit shows the stored secrets masked and keeps
/// them when their fields are left empty.
/// </summary>
public sealed class BedrockModelDialogTests : PortalUiContext
{
    private const string Secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    public BedrockModelDialogTests() =>
        Ui.Services.AddSingleton<Microsoft.AspNetCore.Identity.ILookupNormalizer, Microsoft.AspNetCore.Identity.UpperInvariantLookupNormalizer>();

    [Fact]
    public async Task PickingBedrock_AsksForTheAwsKeysAndRegion_NotAnApiBase()
    {
        var (provider, dialog) = await OpenAsync(null, null);
        await ChooseBedrockAsync(provider);

        await provider.Find("#model-public-name").ChangeAsync(new ChangeEventArgs { Value = "haiku" });
        await provider.Find("#model-upstream").ChangeAsync(new ChangeEventArgs { Value = "anthropic.claude-3-haiku-20240307-v1:0" });
        await provider.Find("form#model-form").SubmitAsync();

        Assert.Contains("Amazon Bedrock models need the AWS region.", provider.Markup);
        Assert.Contains("Enter the AWS access key id (or a Bedrock API key).", provider.Markup);
        Assert.Contains("Enter the AWS secret access key.", provider.Markup);
        Assert.DoesNotContain("Enter the provider's API key.", provider.Markup);
        Assert.DoesNotContain("models need the API base", provider.Markup);
        Assert.False(dialog.Result.IsCompleted);
    }

    [Fact]
    public async Task BedrockForm_RegistersTheDeployment_AndEditLeavesTheStoredSecretWhenEmpty()
    {
        var teamId = await SeedTeamAsync();
        var (provider, dialog) = await OpenAsync(teamId, null);
        await ChooseBedrockAsync(provider);
        await provider.Find("#model-public-name").ChangeAsync(new ChangeEventArgs { Value = "haiku" });
        await provider.Find("#model-upstream").ChangeAsync(new ChangeEventArgs { Value = "anthropic.claude-3-haiku-20240307-v1:0" });
        await provider.Find("#model-aws-region").ChangeAsync(new ChangeEventArgs { Value = "eu-central-1" });
        await provider.Find("#model-aws-access-key-id").ChangeAsync(new ChangeEventArgs { Value = "AKIAIOSFODNN7EXAMPLE" });
        await provider.Find("#model-aws-secret-access-key").ChangeAsync(new ChangeEventArgs { Value = Secret });
        await provider.Find("form#model-form").SubmitAsync();

        var saved = Assert.IsType<ModelDeployment>((await dialog.Result.WaitAsync(TimeSpan.FromSeconds(5)))!.Data);
        Assert.Equal("bedrock/anthropic.claude-3-haiku-20240307-v1:0", saved.UpstreamModel);
        Assert.Equal("eu-central-1", saved.AwsRegionName);
        Assert.Equal("****EKEY", CloudParams.Masked(saved)[CloudParams.AwsSecretAccessKey]);
        Assert.Equal(Secret, await StoredSecretAsync(saved.ModelId));

        // Edit: the stored secrets show masked; changing only the region keeps them.
        var (edit, editDialog) = await OpenAsync(null, saved);
        Assert.Contains("Stored: ****EKEY. Leave empty to keep it.", edit.Markup);
        Assert.DoesNotContain(Secret[..^4], edit.Markup);
        Assert.Equal("eu-central-1", edit.Find("#model-aws-region").GetAttribute("value"));
        await edit.Find("#model-aws-region").ChangeAsync(new ChangeEventArgs { Value = "us-west-2" });
        await edit.Find("form#model-form").SubmitAsync();

        var changed = Assert.IsType<ModelDeployment>((await editDialog.Result.WaitAsync(TimeSpan.FromSeconds(5)))!.Data);
        Assert.Equal("us-west-2", changed.AwsRegionName);
        Assert.Equal("https://bedrock-runtime.us-west-2.amazonaws.com", DeploymentName.ApiBase(changed));
        Assert.Equal(Secret, await StoredSecretAsync(saved.ModelId));
    }

    private IRenderedComponent<MudDialogProvider>? _providers;

    private async Task<(IRenderedComponent<MudDialogProvider> Provider, IDialogReference Dialog)> OpenAsync(string? teamId, ModelDeployment? existing)
    {
        var provider = _providers ??= RenderProviders();
        var dialogs = Ui.Services.GetRequiredService<IDialogService>();
        var parameters = new DialogParameters<ModelDialog> { { d => d.TeamId, teamId }, { d => d.Existing, existing } };
        var dialog = await provider.InvokeAsync(() => dialogs.ShowAsync<ModelDialog>("Model", parameters));
        return (provider, dialog);
    }

    /// <summary>Picks Amazon Bedrock in the provider select, as choosing it in the list does.</summary>
    private static async Task ChooseBedrockAsync(IRenderedComponent<MudDialogProvider> provider)
    {
        var select = provider.FindComponents<MudSelect<string>>().First(s => s.Instance.Label == "Provider");
        await select.InvokeAsync(() => select.Instance.ValueChanged.InvokeAsync(Proxy.Core.Providers.Provider.Bedrock));
    }

    private async Task<string> StoredSecretAsync(string modelId)
    {
        await using var scope = Ui.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
        var row = db.Deployments.Single(d => d.ModelId == modelId);
        var opened = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(scope.ServiceProvider.GetRequiredService<SecretBox>().Open(row.CloudSecretsCipher!))!;
        return opened[CloudParams.AwsSecretAccessKey];
    }

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
}
