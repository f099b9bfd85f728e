using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;
using Proxy.Core;
using Proxy.Core.Access;

namespace Portal.Components;

/// <summary>
/// The portal's door into Proxy.Core: turns the signed-in user into a <see cref="Caller"/> and runs a core service in a
/// fresh scope (one DbContext per operation, as a long-lived circuit needs). The rules stay in the core; this only
/// turns their refusals into readable snackbars instead of a broken circuit.
/// </summary>
public sealed partial class PortalSession(AuthenticationStateProvider auth, IServiceScopeFactory scopes, CallerResolver callers, ISnackbar snackbar, ILogger<PortalSession> log)
{
    public async Task<Caller> CallerAsync()
    {
        var state = await auth.GetAuthenticationStateAsync();
        var userId = state.User.FindFirstValue(ClaimTypes.NameIdentifier)
            ?? throw ProxyError.Unauthorized("You are signed out. Sign in again.");
        return callers.FromUser(userId);
    }

    /// <summary>Runs <paramref name="operation"/>; a refusal or failure shows as a snackbar and yields <c>default</c>.</summary>
    public async Task<(bool Ok, T? Value)> TryAsync<TService, T>(Func<TService, Caller, Task<T>> operation, string? success = null) where TService : notnull
    {
        var (value, refusal) = await TryInPlaceAsync(operation, success);
        if (refusal is not null)
        {
            snackbar.Add(refusal.Plain ?? refusal.Message, Severity.Error);
        }
        return (refusal is null, value);
    }

    /// <summary>
    /// Runs <paramref name="operation"/> for a dialog that stays open on a refusal: the <see cref="ProxyError"/> is
    /// returned for the dialog to show on the field it names (or at its top), never as a snackbar. An unexpected failure
    /// is logged and returned as a refusal in plain words.
    /// </summary>
    public async Task<(T? Value, ProxyError? Refusal)> TryInPlaceAsync<TService, T>(Func<TService, Caller, Task<T>> operation, string? success = null) where TService : notnull
    {
        try
        {
            var caller = await CallerAsync();
            await using var scope = scopes.CreateAsyncScope();
            var value = await operation(scope.ServiceProvider.GetRequiredService<TService>(), caller);
            if (success is not null)
            {
                snackbar.Add(success, Severity.Success);
            }
            return (value, null);
        }
        catch (ProxyError e)
        {
            return (default, e);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogFailed(e);
            return (default, new ProxyError(500, "internal_error", "Something went wrong on the server; it has been logged. Try again."));
        }
    }

    public void Notify(string message, Severity severity) => snackbar.Add(message, severity);

    [LoggerMessage(200, LogLevel.Error, "Portal operation failed")]
    private partial void LogFailed(Exception exception);
}
