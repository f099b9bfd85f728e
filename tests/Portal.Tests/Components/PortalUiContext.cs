using Bunit;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using Portal.Components;
using Proxy.Core;

namespace Portal.Tests.Components;

/// <summary>bUnit with MudBlazor: loose JS interop, Mud services, and the portal's session over the real core.</summary>
public abstract class PortalUiContext : IAsyncLifetime
{
    protected BunitContext Ui { get; } = new();

    protected PortalUiContext()
    {
        Ui.JSInterop.Mode = JSRuntimeMode.Loose;
        Ui.Services.AddMudServices();
        Ui.Services.AddOptions<ProxyOptions>().Configure(o =>
        {
            o.MasterKey = "sk-bunit-master";
            o.EncryptionKey = "bunit-encryption";
        });
        Ui.Services.AddSingleton<Microsoft.Extensions.Configuration.IConfiguration>(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build());
        Ui.Services.AddProxyCore($"Data Source={Path.Combine(Path.GetTempPath(), $"bunit-{Guid.NewGuid():N}.db")}");
        Auth = Ui.AddAuthorization();
        Auth.SetAuthorized("someone@example.com");
        Ui.Services.AddScoped<PortalSession>();
    }

    /// <summary>The signed-in test user; a test that acts through the real core sets its user id claim.</summary>
    protected Bunit.TestDoubles.BunitAuthorizationContext Auth { get; }

    /// <summary>Renders the providers a dialog or select needs, once.</summary>
    protected IRenderedComponent<MudDialogProvider> RenderProviders()
    {
        Ui.Render<MudPopoverProvider>();
        return Ui.Render<MudDialogProvider>();
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await Ui.DisposeAsync();
}
