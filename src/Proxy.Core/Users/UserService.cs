using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Proxy.Core.Access;
using Proxy.Core.Persistence;
using Proxy.Core.Spend;
using Proxy.Core.Teams;

namespace Proxy.Core.Users;

/// <summary>Portal accounts: the proxy admin creates them, makes them proxy admins, and disables them.</summary>
public sealed class UserService(Changes changes, UserManager<PortalUser> users)
{
    public async Task<IReadOnlyList<PortalUser>> ListAsync(Caller caller, CancellationToken ct = default)
    {
        Demand.ProxyAdmin(caller, UsersAreTheProxyAdmins);
        return await changes.Db.Users.AsNoTracking().OrderBy(u => u.Email).ToListAsync(ct);
    }

    /// <summary>One page of users by email, each with their teams (aliases and roles), for the admin page: two bounded queries.</summary>
    public async Task<(IReadOnlyList<UserListing> Users, int Total)> ListWithTeamsAsync(Caller caller, int page, int pageSize, CancellationToken ct = default)
    {
        Demand.ProxyAdmin(caller, UsersAreTheProxyAdmins);
        var query = changes.Db.Users.AsNoTracking();
        var total = await query.CountAsync(ct);
        var users = await query.OrderBy(u => u.Email).ThenBy(u => u.Id).Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(ct);
        var ids = users.Select(u => u.Id).ToList();
        var teams = (await changes.Db.Memberships.AsNoTracking().Where(m => ids.Contains(m.UserId))
                .Join(changes.Db.Teams, m => m.TeamId, t => t.TeamId, (m, t) => new { m.UserId, t.TeamId, t.TeamAlias, m.Role })
                .ToListAsync(ct))
            .ToLookup(m => m.UserId);
        return (users.Select(u => new UserListing(u,
            [.. teams[u.Id].OrderBy(t => t.TeamAlias ?? t.TeamId, StringComparer.OrdinalIgnoreCase).Select(t => new UserListing.Team(t.TeamId, t.TeamAlias, t.Role))])).ToList(), total);
    }

    public async Task<PortalUser> CreateAsync(Caller caller, string? email, string? password, bool isProxyAdmin, CancellationToken ct = default)
    {
        Demand.ProxyAdmin(caller, UsersAreTheProxyAdmins);
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

    /// <summary>
    /// <c>/user/new</c>: a user without a password (as <c>/team/member_add</c> creates them), with a role, models, a
    /// budget and rate limits; with <c>team_id</c>, a <c>user</c> member of that team. The proxy admin's alone (so
    /// only a proxy admin ever grants <c>proxy_admin</c>).
    /// </summary>
    public async Task<PortalUser> NewAsync(Caller caller, UserInput input, CancellationToken ct = default)
    {
        Demand.ProxyAdmin(caller, UsersAreTheProxyAdmins);
        var userId = input.UserId is null ? null : Check.Id(input.UserId, "user_id");
        var email = Check.Email(input.UserEmail, "user_email");
        var teamId = input.TeamId is null ? null : Check.Required(input.TeamId, "team_id", 128);
        var isProxyAdmin = input.UserRole is { } role && UserRole.IsProxyAdmin(role);
        return await changes.ApplyAsync(async () =>
        {
            // LiteLLM swallows a missing team and creates the user anyway; a user silently outside the team is worse than a 400.
            if (teamId is not null && !await changes.Db.Teams.AnyAsync(t => t.TeamId == teamId, ct))
            {
                throw ProxyError.BadRequest($"Team id={teamId} does not exist.", "team_id");
            }
            var user = await AddUserAsync(userId, email, ct);
            user.IsProxyAdmin = isProxyAdmin;
            Apply(user, input);
            if (teamId is not null)
            {
                changes.Db.Memberships.Add(new TeamMembership { TeamId = teamId, UserId = user.Id, Role = TeamRole.User });
                changes.Audit(caller, "team.member_add", teamId, user.Id, new { user_id = user.Id, user_email = user.Email, role = TeamRole.User });
                changes.TouchTeam(teamId);
            }
            changes.Audit(caller, "user.create", null, user.Id, Describe(user));
            changes.TouchEverything();
            return user;
        }, ct);
    }

    /// <summary>
    /// <c>/user/update</c>: a user's role, models, budget and limits, named by user_id or user_email. As LiteLLM, an
    /// upsert: a user that does not exist is created (without a password, in no team). The proxy admin's alone.
    /// </summary>
    public async Task<PortalUser> UpdateAsync(Caller caller, UserInput input, CancellationToken ct = default)
    {
        Demand.ProxyAdmin(caller, UsersAreTheProxyAdmins);
        if (input.UserId is null && input.UserEmail is null)
        {
            throw ProxyError.BadRequest("user_id or user_email is required.", "user_id");
        }
        var userId = input.UserId is null ? null : Check.Id(input.UserId, "user_id");
        var email = Check.Email(input.UserEmail, "user_email");
        return await changes.ApplyAsync(async () =>
        {
            var user = await FindOrNullAsync(userId, email, ct);
            if (user is not null && userId is not null && email is not null && users.NormalizeEmail(email) != user.NormalizedEmail)
            {
                // user_email names the user when user_id is absent; it is not a setting this route changes.
                throw ProxyError.BadRequest($"user_email cannot be changed through /user/update: {userId} has {user.Email ?? "no email"}. "
                    + "Send user_id or user_email to name the user.", "user_email");
            }
            var created = user is null;
            user ??= await AddUserAsync(userId, email, ct);
            if (input.UserRole is { } role)
            {
                var isProxyAdmin = UserRole.IsProxyAdmin(role);
                if (isProxyAdmin != user.IsProxyAdmin && user.Id == caller.UserId)
                {
                    throw ProxyError.BadRequest("You cannot change your own role; ask another proxy admin.", "user_role");
                }
                user.IsProxyAdmin = isProxyAdmin;
            }
            Apply(user, input);
            changes.Audit(caller, created ? "user.create" : "user.update", null, user.Id, Describe(user));
            changes.TouchEverything();
            return user;
        }, ct);
    }

    /// <summary>A new user without a password, added to the context; 400 when the id or the email is taken.</summary>
    private async Task<PortalUser> AddUserAsync(string? userId, string? email, CancellationToken ct)
    {
        if (userId is not null && await changes.Db.Users.AnyAsync(u => u.Id == userId, ct))
        {
            throw ProxyError.BadRequest($"User {userId} already exists. Change it with /user/update.", "user_id");
        }
        var normalizedEmail = email is null ? null : users.NormalizeEmail(email);
        if (email is not null && await changes.Db.Users.AnyAsync(u => u.NormalizedEmail == normalizedEmail, ct))
        {
            throw ProxyError.BadRequest($"A user with email {email} already exists. Change it with /user/update.", "user_email");
        }
        var id = userId ?? Guid.NewGuid().ToString();
        var user = new PortalUser
        {
            Id = id,
            Email = email,
            NormalizedEmail = normalizedEmail,
            UserName = email ?? id,
            NormalizedUserName = users.NormalizeName(email ?? id),
            SecurityStamp = Guid.NewGuid().ToString("N"),
            CreatedAt = changes.Now,
        };
        changes.Db.Users.Add(user);
        return user;
    }

    /// <summary>Models, budget and rate limits from a request: an absent field keeps its value, a null limit is removed, models [] lifts the restriction.</summary>
    private void Apply(PortalUser user, UserInput input)
    {
        if (input.Models is not null) user.Models = Check.Names(input.Models, "models")!;
        Budget.Apply(user, input.MaxBudget, input.BudgetDuration, changes.Now);
        if (input.TpmLimit.IsGiven) user.TpmLimit = LimitRules.TpmLimit(input.TpmLimit.Value);
        if (input.RpmLimit.IsGiven) user.RpmLimit = LimitRules.RpmLimit(input.RpmLimit.Value);
    }

    private static object Describe(PortalUser user) => new
    {
        user.Email, user.IsProxyAdmin, user.Models, user.MaxBudget, user.BudgetDuration, user.TpmLimit, user.RpmLimit,
    };

    /// <summary><c>/user/info</c>: a user with their keys and teams, for the proxy admin, the user themself, and admins of the user's teams.</summary>
    public async Task<UserView> InfoAsync(Caller caller, string? userId, CancellationToken ct = default)
    {
        userId ??= caller.UserId ?? throw ProxyError.BadRequest("user_id is required (this key belongs to no user).", "user_id");
        var user = await changes.Db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == userId, ct);
        var memberships = await changes.Db.Memberships.AsNoTracking().Where(m => m.UserId == userId).ToListAsync(ct);
        // As LiteLLM, another user's info is a 403; it is the same whether that user exists or not, so it reveals nothing.
        if (!Rules.CanSeeUser(caller, userId, memberships.Select(m => m.TeamId)))
        {
            throw ProxyError.Forbidden($"You can see only your own user info (and, as a team admin, your team's members'), not user {userId}'s.");
        }
        if (user is null)
        {
            throw ProxyError.NotFound($"User {userId} does not exist.", "user_id");
        }
        var teamIds = memberships.Select(m => m.TeamId).ToList();
        var teams = await changes.Db.Teams.AsNoTracking().Where(t => teamIds.Contains(t.TeamId)).OrderBy(t => t.CreatedAt).ToListAsync(ct);
        var keys = await changes.Db.Keys.AsNoTracking().Where(k => k.UserId == userId).Where(KeyVisibility.Of(caller)).OrderBy(k => k.CreatedAt).ToListAsync(ct);
        return new UserView(user, keys, teams.Select(t => (t, memberships.Single(m => m.TeamId == t.TeamId))).ToList());
    }

    private async Task<PortalUser?> FindOrNullAsync(string? userId, string? email, CancellationToken ct)
    {
        var normalizedEmail = email is null ? null : users.NormalizeEmail(email);
        return await changes.Db.Users.SingleOrDefaultAsync(u => userId != null ? u.Id == userId : u.NormalizedEmail == normalizedEmail, ct);
    }

    public Task<PortalUser> SetProxyAdminAsync(Caller caller, string userId, bool isProxyAdmin, CancellationToken ct = default) =>
        ChangeAsync(caller, userId, "user.proxy_admin", u => u.IsProxyAdmin = isProxyAdmin, ct);

    /// <summary>A disabled user's sessions and keys are refused from the next request on.</summary>
    public Task<PortalUser> SetDisabledAsync(Caller caller, string userId, bool disabled, CancellationToken ct = default) =>
        ChangeAsync(caller, userId, "user.disabled", u => u.Disabled = disabled, ct);

    private async Task<PortalUser> ChangeAsync(Caller caller, string userId, string action, Action<PortalUser> change, CancellationToken ct)
    {
        Demand.ProxyAdmin(caller, UsersAreTheProxyAdmins);
        if (!Rules.CanChangeStatusOf(caller, userId))
        {
            throw ProxyError.BadRequest(Rules.OwnStatusRefusal, "user_id");
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

    /// <summary>
    /// A one-time invite for an account without a password (one /team/member_add created): a token that lets its holder
    /// set the password, valid for <c>Portal:InviteLifetime</c> and spent by its use (setting the password changes the
    /// account's security stamp, which every such token is bound to). The token is never stored.
    /// </summary>
    public async Task<(PortalUser User, string Token)> InviteAsync(Caller caller, string userId, CancellationToken ct = default)
    {
        var user = await changes.Db.Users.SingleOrDefaultAsync(u => u.Id == userId, ct)
            ?? throw ProxyError.NotFound($"User {userId} does not exist.", "user_id");
        var teams = await changes.Db.Memberships.AsNoTracking().Where(m => m.UserId == userId).Select(m => m.TeamId).ToListAsync(ct);
        Demand.Invite(caller, user, teams);
        if (user.Disabled)
        {
            throw ProxyError.BadRequest($"{user.Email ?? user.Id} is disabled: enable the account first.", "user_id");
        }
        var token = await users.GenerateUserTokenAsync(user, TokenOptions.DefaultProvider, InvitePurpose);
        await changes.ApplyAsync(() =>
        {
            changes.Audit(caller, "user.invite", null, user.Id, new { user.Email });
            return Task.FromResult(true);
        }, ct);
        return (user, token);
    }

    /// <summary>The invite's holder sets the password. False (and nothing changed) for a used, expired or forged invite.</summary>
    public async Task<IdentityResult> AcceptInviteAsync(string userId, string token, string password)
    {
        var user = await users.FindByIdAsync(userId);
        if (user is null || user.Disabled || user.PasswordHash is not null
            || !await users.VerifyUserTokenAsync(user, TokenOptions.DefaultProvider, InvitePurpose, token))
        {
            return IdentityResult.Failed(new IdentityError { Code = "InvalidInvite", Description = "This invite link is invalid, expired or already used. Ask your team admin for a new one." });
        }
        return await users.AddPasswordAsync(user, password);
    }

    private const string InvitePurpose = "invite";

    /// <summary>
    /// A portal sign-in through the company's identity provider (OpenID Connect): the account with this verified
    /// email, created on first sign-in with no team. With <paramref name="proxyAdmin"/> (the IdP's admin group is
    /// configured), the IdP decides who is a proxy admin, except for the bootstrap admin <paramref name="bootstrapAdmin"/>.
    /// </summary>
    public async Task<PortalUser> SignedOnAsync(string email, bool? proxyAdmin, string? bootstrapAdmin, CancellationToken ct = default)
    {
        var address = Check.Email(email, "email")!;
        return await changes.ApplyAsync(async () =>
        {
            var user = await users.FindByEmailAsync(address);
            if (user is null)
            {
                user = new PortalUser { UserName = address, Email = address, EmailConfirmed = true, IsProxyAdmin = proxyAdmin == true, CreatedAt = changes.Now };
                var created = await users.CreateAsync(user);
                if (!created.Succeeded)
                {
                    throw ProxyError.BadRequest(string.Join(" ", created.Errors.Select(e => e.Description)), "email");
                }
                changes.Audit(IdentityProvider, "user.create", null, user.Id, new { user.Email, user.IsProxyAdmin });
                changes.TouchEverything();
            }
            else if (proxyAdmin is { } admin && admin != user.IsProxyAdmin
                && !string.Equals(user.Email, bootstrapAdmin, StringComparison.OrdinalIgnoreCase))
            {
                user.IsProxyAdmin = admin;
                user.SecurityStamp = Guid.NewGuid().ToString("N");
                changes.Audit(IdentityProvider, "user.proxy_admin", null, user.Id, new { user.Email, user.IsProxyAdmin });
                changes.TouchEverything();
            }
            return user;
        }, ct);
    }

    /// <summary>How the audit log names changes the identity provider made.</summary>
    private static readonly Caller IdentityProvider = new(CallerKind.PortalUser, "sso", null, null, false, System.Collections.Frozen.FrozenDictionary<string, string>.Empty);

    private const string UsersAreTheProxyAdmins = "Only a proxy admin can manage portal users.";
}
