using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Portal.Components.Pages.Teams;
using Portal.Components.Shared;
using Proxy.Core.Keys;

namespace Portal.Tests.Components;

/// <summary>Spend against budgets as the portal shows it, and the limits form as it edits them.</summary>
public sealed class BudgetRenderingTests : PortalUiContext
{
    /// <summary>A save the service accepts: the dialog closes with the form.</summary>
    private static Task<Proxy.Core.ProxyError?> Saved(LimitsForm form) => Task.FromResult<Proxy.Core.ProxyError?>(null);

    [Fact]
    public void SpendBar_ShowsSpendOfTheBudgetAndTheResetDate_RedOnceReached()
    {
        var under = Ui.Render<SpendBar>(p => p.Add(b => b.Spend, 2.5).Add(b => b.MaxBudget, 10).Add(b => b.ResetAt, new DateTime(2026, 12, 10, 0, 0, 0, DateTimeKind.Utc)));
        var reached = Ui.Render<SpendBar>(p => p.Add(b => b.Spend, 10.2).Add(b => b.MaxBudget, 10));
        var none = Ui.Render<SpendBar>(p => p.Add(b => b.Spend, 0.0125));

        Assert.Equal("$2.50", under.Find("[data-testid=spend-amount]").TextContent);
        Assert.Equal("$10.00", under.Find("[data-testid=spend-budget]").TextContent);
        Assert.Contains("resets 2026-12-10 00:00 UTC", under.Find("[data-testid=spend-reset]").TextContent);
        Assert.Contains("mud-progress-linear-color-success", under.Find("[data-testid=spend-bar]").ClassList.ToString());
        Assert.Contains("mud-progress-linear-color-error", reached.Find("[data-testid=spend-bar]").ClassList.ToString());
        Assert.Contains("Budget reached", reached.Find("[data-testid=spend]").GetAttribute("title"));
        Assert.Contains("$0.0125", none.Markup);
        Assert.Contains("no budget", none.Markup);
        Assert.Empty(none.FindAll("[data-testid=spend-bar]"));
    }

    [Fact]
    public void KeysTab_ShowsEachKeysSpendAndLimits_AndOffersLimitsToAdminsOnly()
    {
        RenderProviders();
        var key = new VirtualKey { Token = new string('b', 64), KeyName = "sk-...wxyz", TeamId = "t1", Spend = 0.85, MaxBudget = 1, RpmLimit = 60, MaxParallelRequests = 4 };

        var admin = Ui.Render<KeysTab>(p => p.Add(t => t.TeamId, "t1").Add(t => t.Keys, [key]).Add(t => t.CanManage, true));
        var member = Ui.Render<KeysTab>(p => p.Add(t => t.TeamId, "t1").Add(t => t.Keys, [key]).Add(t => t.CanManage, false));

        Assert.Contains("$0.85", admin.Find("[data-testid=key-spend]").TextContent);
        Assert.Contains("$1.00", admin.Find("[data-testid=key-spend]").TextContent);
        Assert.Contains("mud-progress-linear-color-warning", admin.Find("[data-testid=spend-bar]").ClassList.ToString());
        Assert.Equal("60 rpm · 4 in flight", admin.Find("[data-testid=key-limits]").TextContent);
        Assert.Single(admin.FindAll("[data-testid=key-edit-limits]"));
        Assert.Equal("60 rpm · 4 in flight", member.Find("[data-testid=key-limits]").TextContent);
        Assert.Empty(member.FindAll("[data-testid=key-edit-limits]"));
    }

    [Fact]
    public async Task LimitsDialog_ReturnsWhatWasEntered_AndAnEmptyFieldRemovesTheLimit()
    {
        var provider = RenderProviders();
        var dialogs = Ui.Services.GetRequiredService<IDialogService>();
        var form = new LimitsForm { MaxBudget = 5, BudgetDuration = "30d", RpmLimit = 60 };
        var dialog = await provider.InvokeAsync(() => dialogs.ShowAsync<LimitsDialog>("Limits",
            new DialogParameters<LimitsDialog> { { d => d.Form, form }, { d => d.ShowParallel, true }, { d => d.Save, Saved } }));

        Assert.Single(provider.FindAll("#limits-parallel"));
        await provider.Find("#limits-max-budget").ChangeAsync(new Microsoft.AspNetCore.Components.ChangeEventArgs { Value = "12.5" });
        await provider.Find("#limits-rpm").ChangeAsync(new Microsoft.AspNetCore.Components.ChangeEventArgs { Value = "" });
        await provider.Find("#limits-tpm").ChangeAsync(new Microsoft.AspNetCore.Components.ChangeEventArgs { Value = "20000" });
        await provider.Find("form#limits-form").SubmitAsync();

        var result = await dialog.Result.WaitAsync(TimeSpan.FromSeconds(5));
        var input = Assert.IsType<LimitsForm>(result!.Data).ApplyTo(new KeyInput());
        Assert.Equal(12.5, input.MaxBudget.Value);
        Assert.Equal("30d", input.BudgetDuration.Value);
        Assert.True(input.RpmLimit.IsGiven);
        Assert.Null(input.RpmLimit.Value);
        Assert.Equal(20000, input.TpmLimit.Value);
    }

    [Fact]
    public async Task LimitsDialog_OfAKey_EditsItsModelBudgets_ChosenFromTheTeamsModels()
    {
        var provider = RenderProviders();
        var dialogs = Ui.Services.GetRequiredService<IDialogService>();
        var key = new VirtualKey { Token = new string('c', 64), KeyName = "sk-...mbmb", TeamId = "t1" };
        key.ModelBudgets.Add(new KeyModelBudget { Token = key.Token, Model = "my-team-model", BudgetLimit = 10, TimePeriod = "1d" });
        var dialog = await provider.InvokeAsync(() => dialogs.ShowAsync<LimitsDialog>("Limits", new DialogParameters<LimitsDialog>
        {
            { d => d.Form, LimitsForm.From(key) }, { d => d.ShowParallel, true }, { d => d.Models, ["my-team-model", "other-model"] }, { d => d.Save, Saved },
        }));

        Assert.Single(provider.FindAll("[data-testid=model-budget-row]"));
        await provider.Find("[data-testid=model-budget-add]").ClickAsync(new Microsoft.AspNetCore.Components.Web.MouseEventArgs());
        Assert.Equal(2, provider.FindAll("[data-testid=model-budget-row]").Count);
        await provider.Find("#model-budget-limit-0").ChangeAsync(new Microsoft.AspNetCore.Components.ChangeEventArgs { Value = "12.5" });
        await provider.Find("#model-budget-limit-1").ChangeAsync(new Microsoft.AspNetCore.Components.ChangeEventArgs { Value = "2" });
        await provider.Find("form#limits-form").SubmitAsync();

        var result = await dialog.Result.WaitAsync(TimeSpan.FromSeconds(5));
        var budgets = Assert.IsType<LimitsForm>(result!.Data).ApplyTo(new KeyInput()).ModelMaxBudget;
        Assert.True(budgets.IsGiven);
        Assert.Equal(new ModelBudgetInput(12.5, "1d"), budgets.Value!["my-team-model"]);
        // The added row takes the team's next model, with no period until one is chosen.
        Assert.Equal(new ModelBudgetInput(2, null), budgets.Value!["other-model"]);
    }

    [Fact]
    public async Task LimitsDialog_RemovingAKeysLastModelBudget_SendsAnEmptySet_WhileATeamsLimitsSendNone()
    {
        var provider = RenderProviders();
        var dialogs = Ui.Services.GetRequiredService<IDialogService>();
        var key = new VirtualKey { Token = new string('d', 64), KeyName = "sk-...rmrm", TeamId = "t1" };
        key.ModelBudgets.Add(new KeyModelBudget { Token = key.Token, Model = "my-team-model", BudgetLimit = 1 });
        var dialog = await provider.InvokeAsync(() => dialogs.ShowAsync<LimitsDialog>("Limits", new DialogParameters<LimitsDialog>
        {
            { d => d.Form, LimitsForm.From(key) }, { d => d.Models, ["my-team-model"] }, { d => d.Save, Saved },
        }));

        await provider.Find("[data-testid=model-budget-remove-0]").ClickAsync(new Microsoft.AspNetCore.Components.Web.MouseEventArgs());
        Assert.Single(provider.FindAll("[data-testid=model-budgets-empty]"));
        await provider.Find("form#limits-form").SubmitAsync();

        var result = await dialog.Result.WaitAsync(TimeSpan.FromSeconds(5));
        var budgets = Assert.IsType<LimitsForm>(result!.Data).ApplyTo(new KeyInput()).ModelMaxBudget;
        Assert.True(budgets.IsGiven);
        Assert.Empty(budgets.Value!);
        Assert.False(new LimitsForm().ApplyTo(new KeyInput()).ModelMaxBudget.IsGiven);
        Assert.Empty(Ui.Render<LimitsFields>(p => p.Add(f => f.Form, new LimitsForm())).FindAll("[data-testid=model-budget-add]"));
    }

    [Fact]
    public async Task TeamLimitsDialog_SetsTheSoftBudgetAndTheAlertWebhook_ShowsTheStoredOneMasked_AndCanRemoveIt()
    {
        var provider = RenderProviders();
        var dialogs = Ui.Services.GetRequiredService<IDialogService>();
        var form = new LimitsForm { MaxBudget = 100, SoftBudget = 50 };
        var dialog = await provider.InvokeAsync(() => dialogs.ShowAsync<LimitsDialog>("Team budget and limits", new DialogParameters<LimitsDialog>
        {
            { d => d.Form, form }, { d => d.ShowSoftBudget, true }, { d => d.ShowWebhook, true }, { d => d.CurrentWebhook, "https://hooks.slack.com/****" }, { d => d.Save, Saved },
        }));

        Assert.Contains("Set: https://hooks.slack.com/****", provider.Markup);
        Assert.DoesNotContain("services/T", provider.Markup);
        await provider.Find("#limits-soft-budget").ChangeAsync(new Microsoft.AspNetCore.Components.ChangeEventArgs { Value = "75" });
        await provider.Find("#limits-alert-webhook").ChangeAsync(new Microsoft.AspNetCore.Components.ChangeEventArgs { Value = "https://hooks.example.com/alerts/abc" });
        await provider.Find("form#limits-form").SubmitAsync();

        var input = Assert.IsType<LimitsForm>((await dialog.Result.WaitAsync(TimeSpan.FromSeconds(5)))!.Data).ToTeamInput("t1");
        Assert.Equal(75, input.SoftBudget.Value);
        Assert.Equal("https://hooks.example.com/alerts/abc", input.AlertWebhookUrl.Value);
        Assert.False(new LimitsForm().ToTeamInput("t1").AlertWebhookUrl.IsGiven);
        var removed = new LimitsForm { AlertWebhookUrl = "https://ignored.example.com", RemoveAlertWebhook = true }.ToTeamInput("t1").AlertWebhookUrl;
        Assert.True(removed.IsGiven);
        Assert.Null(removed.Value);
    }
}

/// <summary>The routing dialog and a deployment's state as the portal shows them.</summary>
public sealed class RoutingRenderingTests : PortalUiContext
{
    [Fact]
    public async Task RoutingDialog_GivesTheRouterSettingsTheRestApiTakes()
    {
        var provider = RenderProviders();
        var dialogs = Ui.Services.GetRequiredService<IDialogService>();
        var form = new RoutingForm();
        var dialog = await provider.InvokeAsync(() => dialogs.ShowAsync<RoutingDialog>("Routing", new DialogParameters<RoutingDialog> { { d => d.Form, form } }));

        await provider.Find("[data-testid=fallbacks-add]").ClickAsync(new Microsoft.AspNetCore.Components.Web.MouseEventArgs());
        await provider.Find("#fallbacks-model-0").ChangeAsync(new Microsoft.AspNetCore.Components.ChangeEventArgs { Value = "my-team-model" });
        await provider.Find("#fallbacks-targets-0").ChangeAsync(new Microsoft.AspNetCore.Components.ChangeEventArgs { Value = "backup-a, backup-b" });
        await provider.Find("#routing-retries").ChangeAsync(new Microsoft.AspNetCore.Components.ChangeEventArgs { Value = "1" });
        await provider.Find("form#routing-form").SubmitAsync();

        var result = await dialog.Result.WaitAsync(TimeSpan.FromSeconds(5));
        var settings = Assert.IsType<RoutingForm>(result!.Data).ToSettings();
        Assert.Equal(["backup-a", "backup-b"], settings.Fallbacks["my-team-model"]);
        Assert.Equal(1, settings.NumRetries);
        Assert.Equal("simple-shuffle · my-team-model → backup-a, backup-b", RoutingForm.Describe(settings));
    }

    [Fact]
    public void DeploymentStatus_ShowsACoolingDeploymentAndItsFailures()
    {
        var states = Ui.Services.GetRequiredService<Proxy.Core.Routing.DeploymentStates>();
        var now = DateTime.UtcNow;
        states.For("cooling").Failed(now, allowedFails: 3, TimeSpan.FromSeconds(30), immediately: true);
        states.For("failing").Failed(now, allowedFails: 3, TimeSpan.FromSeconds(30), immediately: false);

        var cooling = Ui.Render<DeploymentStatus>(p => p.Add(s => s.ModelId, "cooling").Add(s => s.Routing, "order 1"));
        var failing = Ui.Render<DeploymentStatus>(p => p.Add(s => s.ModelId, "failing"));

        Assert.Contains("cooling down until", cooling.Markup);
        Assert.Contains("order 1", cooling.Find("[data-testid=deployment-failures]").TextContent);
        Assert.Contains("healthy", failing.Markup);
        Assert.Contains("1 failure in the last minute", failing.Find("[data-testid=deployment-failures]").TextContent);
    }
}
