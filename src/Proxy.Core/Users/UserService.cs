using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Proxy.Core.Access;
using Proxy.Core.Persistence;

namespace Proxy.Core.Users;

/// <summary>Portal accounts: the proxy admin creates them, makes them proxy admins, and disables them.</summary>
public sealed class UserService(Changes changes, UserManager<PortalUser> users)
{
    public async Task<IReadOnlyList<PortalUser>> ListAsync(Caller caller, CancellationToken ct = default)
    {
        DemandProxyAdmin(caller);
        return await changes.Db.Users.AsNoTracking().OrderBy(u => u.Email).ToListAsync(ct);
    }

    public async Task<PortalUser> CreateAsync(Caller caller, string? email, string? password, bool isProxyAdmin, CancellationToken ct = default)
    {
        DemandProxyAdmin(caller);
        var address = Check.Email(Check.Required(email, "email"), "email")!;
        var initial = Check.Required(password, "password", 100);
        return await changes.ApplyAsync(async () =>
        {
            if (await users.FindByEmailAsync(address) is not null)
            {
                throw ProxyError.BadRequest($"A user with email {address} already exists.", "email");
            }
            var user = new PortalUser { UserName = address, Email = address, EmailConfirmed = true, IsProxyAdmin = isProxyAdmin, CreatedAt = changes.Now };
            var result = await users.CreateAsync(user, initial);
            if (!result.Succeeded)
            {
                throw ProxyError.BadRequest(string.Join(" ", result.Errors.Select(e => e.Description)), "password");
            }
            changes.Audit(caller, "user.create", null, user.Id, new { user.Email, user.IsProxyAdmin });
            changes.TouchEverything();
            return user;
        }, ct);
    }

    public Task<PortalUser> SetProxyAdminAsync(Caller caller, string userId, bool isProxyAdmin, CancellationToken ct = default) =>
        ChangeAsync(caller, userId, "user.proxy_admin", u => u.IsProxyAdmin = isProxyAdmin, ct);

    /// <summary>A disabled user's sessions and keys are refused from the next request on.</summary>
    public Task<PortalUser> SetDisabledAsync(Caller caller, string userId, bool disabled, CancellationToken ct = default) =>
        ChangeAsync(caller, userId, "user.disabled", u => u.Disabled = disabled, ct);

    private async Task<PortalUser> ChangeAsync(Caller caller, string userId, string action, Action<PortalUser> change, CancellationToken ct)
    {
        DemandProxyAdmin(caller);
        if (userId == caller.UserId)
        {
            throw ProxyError.BadRequest("You cannot change your own admin or disabled status; ask another proxy admin.", "user_id");
        }
        return await changes.ApplyAsync(async () =>
        {
            var user = await changes.Db.Users.SingleOrDefaultAsync(u => u.Id == userId, ct)
                ?? throw ProxyError.NotFound($"User {userId} does not exist.", "user_id");
            change(user);
            user.SecurityStamp = Guid.NewGuid().ToString("N");
            changes.Audit(caller, action, null, user.Id, new { user.Email, user.IsProxyAdmin, user.Disabled });
            changes.TouchEverything();
            return user;
        }, ct);
    }

    private static void DemandProxyAdmin(Caller caller)
    {
        if (!Rules.CanAdministerProxy(caller))
        {
            throw ProxyError.Forbidden("Only a proxy admin can manage portal users.");
        }
    }
}
