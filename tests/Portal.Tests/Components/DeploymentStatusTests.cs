using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Portal.Components.Pages.Teams;
using Proxy.Core.Routing;

namespace Portal.Tests.Components;

/// <summary>A deployment's state says what its last call or connection test on this instance came to, not "healthy" by default.</summary>
public sealed class DeploymentStatusTests : PortalUiContext
{
    private static readonly DateTime Now = new(2026, 12, 6, 16, 40, 0, DateTimeKind.Utc);

    public DeploymentStatusTests() => Ui.Services.AddSingleton<TimeProvider>(new FakeTimeProvider(Now));

    private DeploymentState State => Ui.Services.GetRequiredService<DeploymentStates>().For("d1");

    private IRenderedComponent<DeploymentStatus> Render()
    {
        RenderProviders();
        return Ui.Render<DeploymentStatus>(p => p.Add(s => s.ModelId, "d1"));
    }

    private static string Text(IRenderedComponent<DeploymentStatus> status, string testId) =>
        status.Find($"[data-testid={testId}]").TextContent.Trim();

    [Fact]
    public void NothingKnown_SaysNotTriedYet()
    {
        var status = Render();

        Assert.Equal("not tried yet", Text(status, "deployment-health"));
        Assert.Equal("Nothing tried yet", Text(status, "deployment-failures"));
    }

    [Fact]
    public void ACallThatFoundNoServer_SaysUnreachable_WithWhenAndWhy()
    {
        State.CallFailed(DeploymentResult.Unreachable(Now.AddSeconds(-5), "Connection refused (127.0.0.1:9)"));
        State.Failed(Now.AddSeconds(-5), allowedFails: 3, TimeSpan.FromSeconds(30), immediately: false);

        var status = Render();

        Assert.Equal("unreachable", Text(status, "deployment-health"));
        Assert.Equal("Last call 16:39:55 UTC: no answer (Connection refused (127.0.0.1:9))", Text(status, "deployment-last-call"));
        Assert.Equal("On this instance · 1 failure in the last minute", Text(status, "deployment-failures"));
    }

    [Fact]
    public void AnErrorStatus_SaysFailing()
    {
        State.Tested(DeploymentResult.Failing(Now.AddSeconds(-1), 401, "The provider answered 401: Incorrect API key provided."));

        var status = Render();

        Assert.Equal("failing", Text(status, "deployment-health"));
        Assert.Equal("Test connection 16:39:59 UTC: The provider answered 401: Incorrect API key provided.", Text(status, "deployment-last-test"));
    }

    [Fact]
    public void TheNewerResultDecides_AnAnsweredCallAfterAFailedTest_IsHealthy()
    {
        State.Tested(DeploymentResult.Unreachable(Now.AddSeconds(-30), "Connection refused"));
        State.CallAnswered(Now.AddSeconds(-2));

        var status = Render();

        Assert.Equal("healthy", Text(status, "deployment-health"));
        Assert.Equal("Last call 16:39:58 UTC: answered", Text(status, "deployment-last-call"));
        Assert.Contains("no answer (Connection refused)", Text(status, "deployment-last-test"));
    }

    [Fact]
    public void ACoolingDeployment_SaysUntilWhen_BesideItsLastResult()
    {
        State.CallFailed(DeploymentResult.Failing(Now, 503, "The provider answered 503."));
        State.Failed(Now, allowedFails: 3, TimeSpan.FromSeconds(30), immediately: true);

        var status = Render();

        Assert.Equal("failing", Text(status, "deployment-health"));
        Assert.Contains("cooling down until 16:40:30 UTC", status.Markup);
    }
}
