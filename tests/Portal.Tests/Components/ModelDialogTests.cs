using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Portal.Components.Pages.Teams;
using Proxy.Core.Models;
using Proxy.Core.Providers;

namespace Portal.Tests.Components;

/// <summary>The register-model form tells the user what is wrong before anything is sent.</summary>
public sealed class ModelDialogTests : PortalUiContext
{
    private async Task<(IRenderedComponent<MudDialogProvider> Provider, IDialogReference Dialog)> OpenAsync()
    {
        var provider = RenderProviders();
        var dialogs = Ui.Services.GetRequiredService<IDialogService>();
        var dialog = await provider.InvokeAsync(() => dialogs.ShowAsync<ModelDialog>("Register model"));
        return (provider, dialog);
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
    public async Task ValidOpenAIForm_ClosesWithTheSameInputTheRestApiBuilds()
    {
        var (provider, dialog) = await OpenAsync();

        await provider.Find("#model-public-name").ChangeAsync(new Microsoft.AspNetCore.Components.ChangeEventArgs { Value = "my-team-model" });
        await provider.Find("#model-upstream").ChangeAsync(new Microsoft.AspNetCore.Components.ChangeEventArgs { Value = "gpt-4o" });
        await provider.Find("#model-api-key").ChangeAsync(new Microsoft.AspNetCore.Components.ChangeEventArgs { Value = "sk-provider-key" });
        await provider.Find("form#model-form").SubmitAsync();

        var result = await dialog.Result.WaitAsync(TimeSpan.FromSeconds(5));
        var input = Assert.IsType<ModelInput>(result!.Data);
        Assert.Equal("my-team-model", input.ModelName);
        Assert.Equal("openai/gpt-4o", input.UpstreamModel);
        Assert.Equal("sk-provider-key", input.ApiKey);
        Assert.Null(input.ApiBase);
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
