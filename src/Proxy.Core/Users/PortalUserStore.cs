using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Proxy.Core.Persistence;

namespace Proxy.Core.Users;

/// <summary>
/// Identity's user store with its writes queued on the <see cref="WriteGate"/> like every other write: portal
/// sign-ins write too (failed attempts, lockouts, security stamps, new passwords), and on SQLite a sign-in that met
/// a busy database used to wait on a pool thread or fail. A write inside a <see cref="Changes"/> transaction already
/// holds the gate and goes straight through.
/// </summary>
public sealed class PortalUserStore(PortalDb db, WriteGate gate, IdentityErrorDescriber? describer = null)
    : UserOnlyStore<PortalUser, PortalDb>(db, describer)
{
    public override Task<IdentityResult> CreateAsync(PortalUser user, CancellationToken cancellationToken = default) =>
        GatedAsync(() => base.CreateAsync(user, cancellationToken), cancellationToken);

    public override Task<IdentityResult> UpdateAsync(PortalUser user, CancellationToken cancellationToken = default) =>
        GatedAsync(() => base.UpdateAsync(user, cancellationToken), cancellationToken);

    public override Task<IdentityResult> DeleteAsync(PortalUser user, CancellationToken cancellationToken = default) =>
        GatedAsync(() => base.DeleteAsync(user, cancellationToken), cancellationToken);

    private async Task<IdentityResult> GatedAsync(Func<Task<IdentityResult>> write, CancellationToken ct)
    {
        if (Context.Database.CurrentTransaction is not null)
        {
            return await write();
        }
        if (!await gate.WaitAsync(Database.LockWait(Context), ct))
        {
            throw ProxyError.Unavailable("The database is busy with other changes. Nothing was changed; retry in a moment.");
        }
        try
        {
            return await write();
        }
        finally
        {
            gate.Release();
        }
    }
}
