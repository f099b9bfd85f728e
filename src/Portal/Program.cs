using Portal.Components;
using Portal.Configuration;
using Portal.Endpoints;
using Portal.Telemetry;
using Proxy.Core;
using Proxy.Core.Routing;

var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = GatewayConfiguration.ContentRoot(args) });

builder.AddGatewayConfiguration();
builder.Services.AddProxyCore(builder.Configuration.GetConnectionString("Portal")!);
builder.AddGatewayTelemetry();
builder.Services.AddApiDocument();
builder.AddPortal();
builder.Services.AddLlmRoutes();

var app = builder.Build();

foreach (var warning in app.Services.GetRequiredService<StartupWarnings>().Messages)
{
    app.Logger.LogWarning("{Warning}", warning);
}
await app.Services.PrepareDatabaseAsync();
await app.Services.EnsureBootstrapAdminAsync();
await app.Services.GetRequiredService<RouteTable>().RefreshAsync();

app.UseConfiguredForwardedHeaders();
app.UseCallIds();
app.UseLlmRoutes();
app.UseApiErrors();
// Explicit, so that the LLM routes' branch above runs ahead of them (WebApplication would put them first).
app.UseRouting();
app.UseAuthentication();
app.UseAuthorization();
app.MapHealthEndpoints();
app.MapTeamEndpoints();
app.MapModelEndpoints();
app.MapKeyEndpoints();
app.MapUserEndpoints();
app.MapAuditEndpoints();
app.MapSpendEndpoints();
app.MapActivityEndpoints();
app.MapLlmEndpoints();
app.MapApiDocument();
app.MapMetrics();
app.MapPortal();

app.Run();
