using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Proxy.Core.Access;
using Proxy.Core.Persistence;
using Proxy.Core.Users;

namespace Proxy.Core.Teams;

/// <summary>Teams and their members. Every method takes the <see cref="Caller"/> and asks <see cref="Demand"/> or <see cref="Rules"/>.</summary>
public sealed class TeamService(Changes changes, ILookupNormalizer normalizer, Secrets.SecretBox secrets, Forwarding.UpstreamPolicy upstreams)
{
    private PortalDb Db => changes.Db;

    public async Task<TeamView> CreateAsync(Caller caller, TeamInput input, CancellationToken ct = default)
    {
        Demand.ProxyAdmin(caller, "Only the proxy admin can create teams.");
        var teamId = input.TeamId is null ? Guid.NewGuid().ToString() : Check.Id(input.TeamId, "team_id");
        var members = ValidMembers(input.Members);

        var team = await changes.ApplyAsync(async () =>
        {
            if (await Db.Teams.AnyAsync(t => t.TeamId == teamId, ct))
            {
                throw ProxyError.BadRequest($"Team id={teamId} already exists. Pick another team_id, or leave it out to get a new one.", "team_id");
            }
            var now = changes.Now;
            var team = new Team { TeamId = teamId, CreatedAt = now, UpdatedAt = now, CreatedBy = caller.Id, UpdatedBy = caller.Id };
            Apply(team, input, now);
            ApplyWebhook(team, input.AlertWebhookUrl);
            await DemandRoutableAsync(team, input.RouterSettings, ct);
            await ApplyModelAliasesAsync(team, input.ModelAliases, ct);
            Db.Teams.Add(team);
            changes.Audit(caller, "team.create", teamId, teamId, Describe(input));
            foreach (var member in members)
            {
                // Each first member is logged as /team/member_add logs one: the team's activity says who was made admin.
                var user = await AddMemberAsync(team, member, ct);
                changes.Audit(caller, "team.member_add", teamId, user.Id, new { user_id = user.Id, user_email = user.Email, role = member.Role, max_budget_in_team = member.MaxBudget });
            }
            changes.TouchTeam(teamId);
            return team;
        }, ct);
        return await GetAsync(caller, team.TeamId, ct);
    }

    /// <summary>A team key without a team id gets its own team.</summary>
    public async Task<TeamView> GetAsync(Caller caller, string? teamId, CancellationToken ct = default)
    {
        teamId ??= caller.KeyTeamId ?? throw ProxyError.BadRequest("team_id is required.", "team_id");
        Demand.ReadTeam(caller, teamId);
        var team = await Db.Teams.AsNoTracking().Include(t => t.Members).ThenInclude(m => m.User)
            .SingleOrDefaultAsync(t => t.TeamId == teamId, ct) ?? throw TeamNotFound(teamId);
        var aliases = await Db.Aliases.AsNoTracking().Where(a => a.TeamId == teamId)
            .ToDictionaryAsync(a => a.PublicName, a => a.InternalName, StringComparer.Ordinal, ct);
        var permissions = TeamMemberPermissions.Of(team);
        var keys = (await Db.Keys.AsNoTracking().Where(k => k.TeamId == teamId).OrderBy(k => k.CreatedAt).ToListAsync(ct))
            .Select(k => KeyVisibility.InTeamList(caller, k, permissions)).OfType<Keys.VirtualKey>().ToList();
        return new TeamView(team, aliases, keys, MaskedWebhook(team));
    }

    /// <summary>The teams the caller may read (<see cref="TeamVisibility"/>, the rule of <see cref="GetAsync"/>).</summary>
    public async Task<IReadOnlyList<TeamView>> ListAsync(Caller caller, CancellationToken ct = default)
    {
        var teams = await Db.Teams.AsNoTracking().Where(TeamVisibility.Of<Team>(caller, t => t.TeamId))
            .Include(t => t.Members).ThenInclude(m => m.User).OrderBy(t => t.CreatedAt).ToListAsync(ct);
        var ids = teams.Select(t => t.TeamId).ToList();
        var aliases = (await Db.Aliases.AsNoTracking().Where(a => ids.Contains(a.TeamId)).ToListAsync(ct)).ToLookup(a => a.TeamId);
        return teams.Select(t => new TeamView(t,
            aliases[t.TeamId].ToDictionary(a => a.PublicName, a => a.InternalName, StringComparer.Ordinal), [], MaskedWebhook(t))).ToList();
    }

    public async Task<TeamView> UpdateAsync(Caller caller, TeamInput input, CancellationToken ct = default)
    {
        var teamId = Check.Required(input.TeamId, "team_id", 128);
        Demand.AdministerTeam(caller, teamId);
        if (input.Members is not null)
        {
            throw ProxyError.BadRequest("Change members with /team/member_add, /team/member_update and /team/member_delete.", "members_with_roles");
        }
        await changes.ApplyAsync(async () =>
        {
            var team = await Db.Teams.SingleOrDefaultAsync(t => t.TeamId == teamId, ct) ?? throw TeamNotFound(teamId);
            Demand.BlockTeam(caller, team.Blocked, input.Blocked);
            Apply(team, input, changes.Now);
            ApplyWebhook(team, input.AlertWebhookUrl);
            await DemandRoutableAsync(team, input.RouterSettings, ct);
            await ApplyModelAliasesAsync(team, input.ModelAliases, ct);
            team.UpdatedAt = changes.Now;
            team.UpdatedBy = caller.Id;
            changes.Audit(caller, "team.update", teamId, teamId, Describe(input));
            changes.TouchTeam(teamId);
            return team;
        }, ct);
        return await GetAsync(caller, teamId, ct);
    }

    /// <summary>Deletes the teams with their keys, models and aliases, all or none.</summary>
    public async Task<IReadOnlyList<string>> DeleteAsync(Caller caller, IReadOnlyList<string> teamIds, CancellationToken ct = default)
    {
        Demand.ProxyAdmin(caller, "Only the proxy admin can delete teams.");
        if (teamIds.Count == 0)
        {
            throw ProxyError.BadRequest("team_ids must name at least one team.", "team_ids");
        }
        return await changes.ApplyAsync(async () =>
        {
            var ids = teamIds.Distinct(StringComparer.Ordinal).ToList();
            var teams = await Db.Teams.Where(t => ids.Contains(t.TeamId)).ToListAsync(ct);
            var missing = ids.Except(teams.Select(t => t.TeamId)).FirstOrDefault();
            if (missing is not null)
            {
                throw TeamNotFound(missing);
            }
            // The database cascades to members, keys, models and aliases.
            Db.Teams.RemoveRange(teams);
            foreach (var team in teams)
            {
                changes.Audit(caller, "team.delete", team.TeamId, team.TeamId, new { team.TeamAlias });
                changes.TouchTeam(team.TeamId);
            }
            return (IReadOnlyList<string>)ids;
        }, ct);
    }

    public async Task<TeamView> AddMembersAsync(Caller caller, string? teamId, IReadOnlyList<MemberInput> members, CancellationToken ct = default)
    {
        teamId = Check.Required(teamId, "team_id", 128);
        Demand.AdministerTeam(caller, teamId);
        var valid = ValidMembers(members);
        if (valid.Count == 0)
        {
            throw ProxyError.BadRequest("member is required: {\"user_id\" or \"user_email\", \"role\": \"admin\"|\"user\"}.", "member");
        }
        await changes.ApplyAsync(async () =>
        {
            var team = await Db.Teams.Include(t => t.Members).SingleOrDefaultAsync(t => t.TeamId == teamId, ct) ?? throw TeamNotFound(teamId);
            foreach (var member in valid)
            {
                var user = await AddMemberAsync(team, member, ct);
                changes.Audit(caller, "team.member_add", teamId, user.Id, new { user_id = user.Id, user_email = user.Email, role = member.Role, max_budget_in_team = member.MaxBudget });
                changes.TouchTeam(teamId);
            }
            return team;
        }, ct);
        return await GetAsync(caller, teamId, ct);
    }

    /// <summary>
    /// A member's role and/or budget in the team (<c>max_budget_in_team</c>). Unlike LiteLLM, whose update without a
    /// budget disconnects the member's budget, a field left out keeps its value: a role-only update keeps the budget.
    /// </summary>
    public async Task<TeamView> UpdateMemberAsync(Caller caller, string? teamId, MemberInput member, CancellationToken ct = default)
    {
        teamId = Check.Required(teamId, "team_id", 128);
        Demand.AdministerTeam(caller, teamId);
        if (member.Role is null && !member.MaxBudgetInTeam.IsGiven)
        {
            throw ProxyError.BadRequest("role or max_budget_in_team is required: the member's new role (\"admin\" or \"user\") or budget in the team.", "role");
        }
        var role = member.Role is null ? null : ValidRole(member.Role);
        var budget = member.MaxBudgetInTeam.IsGiven ? ValidBudget(member.MaxBudgetInTeam.Value) : null;
        await changes.ApplyAsync(async () =>
        {
            var team = await Db.Teams.Include(t => t.Members).ThenInclude(m => m.User).SingleOrDefaultAsync(t => t.TeamId == teamId, ct) ?? throw TeamNotFound(teamId);
            var membership = FindMember(team, member.UserId, member.UserEmail);
            if (role is not null && role != TeamRole.Admin)
            {
                TeamAdmins.DemandAnotherAdmin(caller, team, membership);
            }
            membership.Role = role ?? membership.Role;
            if (member.MaxBudgetInTeam.IsGiven)
            {
                membership.MaxBudgetInTeam = budget;
            }
            changes.Audit(caller, "team.member_update", teamId, membership.UserId, new
            {
                user_id = membership.UserId, role = membership.Role, max_budget_in_team = member.MaxBudgetInTeam.IsGiven ? budget ?? (object)"(removed)" : null,
            });
            changes.TouchTeam(teamId);
            return team;
        }, ct);
        return await GetAsync(caller, teamId, ct);
    }

    public async Task<TeamView> RemoveMemberAsync(Caller caller, string? teamId, string? userId, string? userEmail, CancellationToken ct = default)
    {
        teamId = Check.Required(teamId, "team_id", 128);
        Demand.AdministerTeam(caller, teamId);
        await changes.ApplyAsync(async () =>
        {
            var team = await Db.Teams.Include(t => t.Members).ThenInclude(m => m.User).SingleOrDefaultAsync(t => t.TeamId == teamId, ct) ?? throw TeamNotFound(teamId);
            var membership = FindMember(team, userId, userEmail);
            TeamAdmins.DemandAnotherAdmin(caller, team, membership);
            team.Members.Remove(membership);
            changes.Audit(caller, "team.member_delete", teamId, membership.UserId, new { user_id = membership.UserId });
            changes.TouchTeam(teamId);
            return team;
        }, ct);
        return await GetAsync(caller, teamId, ct);
    }

    /// <summary>Finds the user by id or email, creating one without a password when unknown, and adds them to the team.</summary>
    private async Task<PortalUser> AddMemberAsync(Team team, (string? UserId, string? Email, string Role, double? MaxBudget) member, CancellationToken ct)
    {
        var user = await FindOrCreateUserAsync(member.UserId, member.Email, ct);
        if (team.Members.Any(m => m.UserId == user.Id))
        {
            throw ProxyError.BadRequest($"User {member.Email ?? member.UserId} is already a member of team {team.TeamId}. Use /team/member_update to change the role.", "member")
                .InPlainWords($"{user.Email ?? member.Email ?? member.UserId} is already a member of {team.TeamAlias ?? "this team"}: change their role in the list below.");
        }
        team.Members.Add(new TeamMembership { TeamId = team.TeamId, UserId = user.Id, Role = member.Role, MaxBudgetInTeam = member.MaxBudget });
        return user;
    }

    internal async Task<PortalUser> FindOrCreateUserAsync(string? userId, string? email, CancellationToken ct)
    {
        var normalizedEmail = email is null ? null : normalizer.NormalizeEmail(email);
        var user = userId is null ? null : await Db.Users.SingleOrDefaultAsync(u => u.Id == userId, ct);
        if (user is not null)
        {
            return user;
        }
        user = email is null ? null : await Db.Users.FirstOrDefaultAsync(u => u.NormalizedEmail == normalizedEmail, ct);
        if (user is not null && userId is not null)
        {
            throw ProxyError.BadRequest($"user_email {email} belongs to user {user.Id}, not {userId}.", "user_email");
        }
        if (user is not null)
        {
            return user;
        }
        var name = email ?? userId!;
        user = new PortalUser
        {
            Id = userId ?? Guid.NewGuid().ToString(),
            Email = email,
            NormalizedEmail = normalizedEmail,
            UserName = name,
            NormalizedUserName = normalizer.NormalizeName(name),
            SecurityStamp = Guid.NewGuid().ToString("N"),
            CreatedAt = changes.Now,
        };
        Db.Users.Add(user);
        return user;
    }

    private static TeamMembership FindMember(Team team, string? userId, string? userEmail)
    {
        if (userId is null && userEmail is null)
        {
            throw ProxyError.BadRequest("user_id or user_email is required.", "user_id");
        }
        return team.Members.FirstOrDefault(m => (userId is not null && m.UserId == userId)
                || (userEmail is not null && string.Equals(m.User?.Email, userEmail, StringComparison.OrdinalIgnoreCase)))
            ?? throw ProxyError.NotFound($"User {userId ?? userEmail} is not a member of team {team.TeamId}.", "user_id");
    }

    private static List<(string? UserId, string? Email, string Role, double? MaxBudget)> ValidMembers(IReadOnlyList<MemberInput>? members) =>
        (members ?? []).Select(m =>
        {
            var userId = m.UserId is null ? null : Check.Id(m.UserId, "member.user_id");
            var email = Check.Email(m.UserEmail, "member.user_email");
            if (userId is null && email is null)
            {
                throw ProxyError.BadRequest("Each member needs user_id or user_email.", "member");
            }
            return (userId, email, ValidRole(m.Role), m.MaxBudgetInTeam.IsGiven ? ValidBudget(m.MaxBudgetInTeam.Value) : null);
        }).ToList();

    /// <summary><c>max_budget_in_team</c>: USD, not negative; null means no budget in the team. The portal's form shows the same messages.</summary>
    public static double? ValidBudget(double? budget) => Check.NotNegative(budget, "max_budget_in_team");

    private static string ValidRole(string? role) =>
        TeamRole.IsValid(role ?? TeamRole.User) ? role ?? TeamRole.User
            : throw ProxyError.BadRequest($"role '{role}' is not valid: use \"admin\" or \"user\".", "role");

    /// <summary>Router settings may name only models the team may call (the rule book decides); another team's model is never a fallback.</summary>
    private async Task DemandRoutableAsync(Team team, Routing.RouterSettings? settings, CancellationToken ct)
    {
        if (settings is null)
        {
            return;
        }
        var names = settings.NamedModels.ToList();
        var own = await Db.Aliases.Where(a => a.TeamId == team.TeamId && names.Contains(a.PublicName)).Select(a => a.PublicName).ToListAsync(ct);
        var global = await Db.Deployments.Where(d => d.TeamId == null && names.Contains(d.ModelName)).Select(d => d.ModelName).Distinct().ToListAsync(ct);
        var models = team.Models.ToArray();
        if (names.FirstOrDefault(n => !Rules.TeamMayRouteTo(models, own.Contains(n), global.Contains(n), n)) is { } refused)
        {
            throw ProxyError.BadRequest(
                $"router_settings names model {refused}, which team {team.TeamId} cannot call. Fallbacks name the team's own public model names or global models it may use.",
                "router_settings");
        }
        team.RouterSettings = settings.ToJson().ToJsonString();
    }

    /// <summary>
    /// <c>model_aliases</c> replace the team's whole map, as LiteLLM's do. An alias name may not hide one of the team's own
    /// public model names; it need not be in <c>models</c> itself. The target is checked when a call uses it.
    /// </summary>
    private async Task ApplyModelAliasesAsync(Team team, IReadOnlyDictionary<string, string>? aliases, CancellationToken ct)
    {
        if (aliases is not null)
        {
            team.ModelAliases = await Models.AliasMap.CheckedAsync(Db, team.TeamId, aliases, "model_aliases", ct);
        }
    }

    private static void Apply(Team team, TeamInput input, DateTime now)
    {
        if (input.TeamAlias is not null) team.TeamAlias = Check.Text(input.TeamAlias, "team_alias");
        if (input.Models is not null) team.Models = Check.Names(input.Models, "models")!;
        Alerts.BudgetThresholds.Apply(team, input.MaxBudget, input.SoftBudget, input.BudgetDuration, now);
        if (input.TpmLimit.IsGiven) team.TpmLimit = Spend.LimitRules.TpmLimit(input.TpmLimit.Value);
        if (input.RpmLimit.IsGiven) team.RpmLimit = Spend.LimitRules.RpmLimit(input.RpmLimit.Value);
        if (input.Blocked is not null) team.Blocked = input.Blocked.Value;
        if (input.Metadata is not null) team.Metadata = input.Metadata;
        if (input.Tags is not null) team.Metadata = Tags.Into(team.Metadata, input.Tags);
        if (input.TeamMemberPermissions.IsGiven)
        {
            team.TeamMemberPermissions = input.TeamMemberPermissions.Value is { } permissions ? TeamMemberPermissions.Checked(permissions) : null;
        }
    }

    /// <summary><c>alert_webhook_url</c>: checked as an <c>api_base</c>, stored sealed (a Slack webhook URL is a bearer secret).</summary>
    private void ApplyWebhook(Team team, Optional<string?> url)
    {
        if (url.IsGiven)
        {
            team.AlertWebhookCipher = url.Value is null ? null : secrets.Seal(Alerts.TeamWebhook.Valid(url.Value, upstreams));
        }
    }

    /// <summary>The stored webhook as the API and portal show it: scheme and host only.</summary>
    private string? MaskedWebhook(Team team)
    {
        if (team.AlertWebhookCipher is null)
        {
            return null;
        }
        try
        {
            return Alerts.TeamWebhook.Mask(secrets.Open(team.AlertWebhookCipher));
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return "(unreadable with the configured encryption keys)";
        }
    }

    private static object Describe(TeamInput input) => new
    {
        input.TeamAlias, input.Models, MaxBudget = Given(input.MaxBudget), SoftBudget = Given(input.SoftBudget), BudgetDuration = Given(input.BudgetDuration),
        // Whether the webhook was set or removed; never the URL, whose path is often its secret.
        AlertWebhookUrl = input.AlertWebhookUrl.IsGiven ? input.AlertWebhookUrl.Value is null ? "(removed)" : "(set)" : null,
        TpmLimit = Given(input.TpmLimit), RpmLimit = Given(input.RpmLimit), input.Blocked, RouterSettings = input.RouterSettings?.ToJson(),
        input.ModelAliases, TeamMemberPermissions = Given(input.TeamMemberPermissions),
    };

    /// <summary>The audit log shows a given limit (null when it was removed) and leaves out one not given.</summary>
    private static object? Given<T>(Optional<T> field) => field.IsGiven ? field.Value ?? (object)"(removed)" : null;

    internal static ProxyError TeamNotFound(string teamId) => ProxyError.NotFound($"Team id={teamId} does not exist.", "team_id");
}
