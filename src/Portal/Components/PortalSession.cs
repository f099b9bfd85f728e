using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Proxy.Core;
using Proxy.Core.Access;

namespace Portal.Components;

/// <summary>
/// The portal's door into Proxy.Core: turns the signed-in user into a <see cref="Caller"/> and runs a core service in a
/// fresh scope (one DbContext per operation, as a long-lived circuit needs). The rules stay in the core.
/// </summary>
public sealed class PortalSession(AuthenticationStateProvider auth, IServiceScopeFactory scopes, CallerResolver callers)
{
    public async Task<Caller> CallerAsync()
    {
        var state = await auth.GetAuthenticationStateAsync();
        var userId = state.User.FindFirstValue(ClaimTypes.NameIdentifier)
            ?? throw ProxyError.Unauthorized("You are signed out. Sign in again.");
        return callers.FromUser(userId);
    }

    public async Task<T> RunAsync<TService, T>(Func<TService, Caller, Task<T>> operation) where TService : notnull
    {
        var caller = await CallerAsync();
        await using var scope = scopes.CreateAsyncScope();
        return await operation(scope.ServiceProvider.GetRequiredService<TService>(), caller);
    }
}
