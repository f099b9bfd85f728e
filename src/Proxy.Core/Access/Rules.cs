using Proxy.Core.Keys;
using Proxy.Core.Routing;
using Proxy.Core.Teams;

namespace Proxy.Core.Access;

/// <summary>What a caller may do to or with a team.</summary>
public enum TeamPermission
{
    /// <summary>See the team, its members, models, alias table and keys' masked names.</summary>
    Read,
    /// <summary>Add, change and delete the team's models (the team-BYOK flow).</summary>
    ManageModels,
    /// <summary>Change the team, its members and keys; read its audit log and spend.</summary>
    Administer,
}

/// <summary>
/// The rule book: every permission of docs/api.md section 1, in one place. The REST endpoints, the LLM routes and the
/// portal all ask here; none of them checks a role itself. What a caller may see of many rows at once is decided beside
/// it, as query filters that the single-row checks share: <see cref="TeamVisibility"/>, <see cref="KeyVisibility"/>,
/// <see cref="ModelVisibility"/>, <see cref="TeamRecords"/>, <see cref="CallLogVisibility"/>, <see cref="ActivityVisibility"/> (every team-owned entity is listed in <see cref="TeamScope"/>);
/// <see cref="Demand"/> turns refusals into the statuses callers see.
/// </summary>
public static class Rules
{
    public static bool Can(Caller caller, TeamPermission permission, string teamId) => permission switch
    {
        _ when caller.IsProxyAdmin => true,
        TeamPermission.Read => TeamVisibility.Allows(caller, teamId),
        TeamPermission.ManageModels => IsTeamKeyFor(caller, teamId) || IsTeamAdmin(caller, teamId),
        TeamPermission.Administer => IsTeamAdmin(caller, teamId),
        _ => false,
    };

    /// <summary>Changing a model: a team model by those who may manage its team's models, a global one by the proxy admin.</summary>
    public static bool CanManageModel(Caller caller, string? teamId) =>
        teamId is null ? CanAdministerProxy(caller) : Can(caller, TeamPermission.ManageModels, teamId);

    /// <summary>Creating and deleting teams, global models and users are the proxy admin's alone.</summary>
    public static bool CanAdministerProxy(Caller caller) => caller.IsProxyAdmin;

    /// <summary>
    /// A user's proxy-admin and disabled flags are changed by a proxy admin, never by that user: nobody locks themselves
    /// out, or leaves the proxy without the admin who was signed in.
    /// </summary>
    public static bool CanChangeStatusOf(Caller caller, string userId) => CanAdministerProxy(caller) && caller.UserId != userId;

    public const string OwnStatusRefusal = "You cannot change your own admin or disabled status; ask another proxy admin.";

    /// <summary>
    /// An invite link lets its holder set the account's password, so it is only ever made for an account that has
    /// none (a team admin must not be able to take over a colleague's account), by the proxy admin or an admin of a
    /// team the account belongs to.
    /// </summary>
    public static bool CanInvite(Caller caller, bool accountHasPassword, IEnumerable<string> accountTeams) =>
        !accountHasPassword && (caller.IsProxyAdmin || accountTeams.Any(team => Can(caller, TeamPermission.Administer, team)));

    /// <summary>
    /// A team's records (audit log, spend logs) are for its admins and the proxy admin; without a team id, only the
    /// proxy admin may read everyone's. Throws the 400/403 the caller should see.
    /// </summary>
    public static void DemandTeamRecords(Caller caller, string? teamId, string records)
    {
        if (teamId is null ? !CanAdministerProxy(caller) : !Can(caller, TeamPermission.Administer, teamId))
        {
            throw teamId is null
                ? ProxyError.BadRequest("team_id is required.", "team_id")
                : ProxyError.Forbidden($"Only the proxy admin or an admin of team {teamId} can read its {records}.");
        }
    }

    /// <summary>LLM routes: the master key and any key but a management-only one.</summary>
    public static bool CanCallModels(Caller caller) => caller.Kind switch
    {
        CallerKind.MasterKey => true,
        CallerKind.VirtualKey => caller.Key!.KeyType != KeyType.Management,
        _ => false,
    };

    /// <summary>
    /// Management routes: everyone but an <c>llm_api</c> key, which is for LLM routes only (it may still list and
    /// describe the models it can call: <c>/v1/models</c>, <c>/model/info</c>).
    /// </summary>
    public static bool CanUseManagementRoutes(Caller caller) => caller.Key?.KeyType != KeyType.LlmApi;

    /// <summary>A user is visible to the proxy admin, to themself (their portal session or their own key), and to admins of their teams.</summary>
    public static bool CanSeeUser(Caller caller, string userId, IEnumerable<string> userTeams) =>
        caller.IsProxyAdmin
        || caller.UserId == userId
        || userTeams.Any(team => IsTeamAdmin(caller, team));

    /// <summary>The teams the caller administers (for the proxy admin, only those it is also an admin member of).</summary>
    public static IEnumerable<string> AdministeredTeams(Caller caller) => caller.Roles.Keys.Where(team => IsTeamAdmin(caller, team));

    /// <summary>Changing, regenerating and deleting a key: the proxy admin, or an admin of the key's team.</summary>
    public static bool CanManageKey(Caller caller, string? keyTeamId) =>
        caller.IsProxyAdmin || (keyTeamId is not null && IsTeamAdmin(caller, keyTeamId));

    /// <summary>
    /// Self-service, as LiteLLM's <c>team_member_permissions</c> decide it: a member of the key's team may use
    /// <paramref name="route"/> (<see cref="TeamMemberPermissions"/>) on a key of that team whose <c>user_id</c> is
    /// theirs, when the team lists the route; signed in or through one of their keys, never an <c>llm_api</c> one.
    /// Admins are decided by <see cref="CanManageKey"/>.
    /// </summary>
    public static bool MayHandleOwnKey(Caller caller, string? keyTeamId, string? keyUserId, string route, IReadOnlyList<string> teamMemberPermissions) =>
        keyTeamId is not null && caller.UserId is not null && keyUserId == caller.UserId
        && caller.Key?.KeyType != KeyType.LlmApi
        && caller.Roles.ContainsKey(keyTeamId)
        && teamMemberPermissions.Contains(route);

    /// <summary>Creating, changing, regenerating or deleting a key: an admin of its team, or its member-owner by <see cref="MayHandleOwnKey"/>.</summary>
    public static bool CanHandleKey(Caller caller, string? keyTeamId, string? keyUserId, string route, IReadOnlyList<string> teamMemberPermissions) =>
        (route == TeamMemberPermissions.Generate
            ? keyTeamId is null ? CanAdministerProxy(caller) : Can(caller, TeamPermission.Administer, keyTeamId)
            : CanManageKey(caller, keyTeamId))
        || MayHandleOwnKey(caller, keyTeamId, keyUserId, route, teamMemberPermissions);

    /// <summary>
    /// A global model is callable when both the key's and its team's <c>models</c> lists allow it
    /// (an empty list, or <c>all-proxy-models</c>, allows every global model). A key with an empty list takes its
    /// user's <c>models</c> instead, as LiteLLM does (<see cref="KeyModels"/>).
    /// </summary>
    public static bool MayUseGlobalModel(Caller caller, TeamEntry? team, string modelName) =>
        caller.IsProxyAdmin
        || (Allows(KeyModels(caller), modelName) && Allows(team?.Models, modelName));

    /// <summary>
    /// The <c>models</c> list that binds a key: its own, or when that is empty, its user's (LiteLLM's user
    /// <c>models</c>, e.g. from <c>/user/new</c>); null or empty allows every global model.
    /// </summary>
    public static string[]? KeyModels(Caller caller) =>
        caller.Key?.Models is { Length: > 0 } own ? own : caller.Key is null ? null : caller.User?.Models;

    /// <summary>
    /// What a team's router settings may name (as a model with fallbacks, or as a fallback): its own models and the
    /// global models its <c>models</c> list allows, never another team's.
    /// </summary>
    public static bool TeamMayRouteTo(string[] teamModels, bool isOwnModel, bool isGlobalModel, string name) =>
        isOwnModel || (isGlobalModel && Allows(teamModels, name));

    /// <summary>
    /// A team's own key (no user, or an admin's) manages its models; a member's key acts with the member's rights,
    /// so the keys members make for themselves cannot change what the whole team calls.
    /// </summary>
    private static bool IsTeamKeyFor(Caller caller, string teamId) =>
        caller.Key is { } key && key.TeamId == teamId && key.KeyType != KeyType.LlmApi
        && (key.UserId is null || IsTeamAdmin(caller, teamId));

    private static bool IsTeamAdmin(Caller caller, string teamId) =>
        caller.Key?.KeyType != KeyType.LlmApi
        && caller.Roles.TryGetValue(teamId, out var role) && role == TeamRole.Admin;

    /// <summary>
    /// An empty list allows everything; otherwise an entry equal to the name, <c>all-proxy-models</c>, or a wildcard
    /// entry ending in <c>*</c> whose start the name shares (<c>openai/*</c> allows <c>openai/gpt-4o</c>, <c>*</c> anything).
    /// </summary>
    private static bool Allows(string[]? models, string name)
    {
        if (models is null || models.Length == 0)
        {
            return true;
        }
        foreach (var entry in models)
        {
            if (entry == name || entry is AllProxyModels or AllTeamModels
                || (entry.Length > 0 && entry[^1] == '*' && name.AsSpan().StartsWith(entry.AsSpan(0, entry.Length - 1), StringComparison.Ordinal)))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>LiteLLM's wildcard entry in a <c>models</c> list.</summary>
    public const string AllProxyModels = "all-proxy-models";

    /// <summary>LiteLLM's entry for "whatever the key's team may call" in a key's <c>models</c> list.</summary>
    public const string AllTeamModels = "all-team-models";

    /// <summary>A <c>models</c> list that allows every model: empty, or holding an entry that allows all (<see cref="Allows"/>).</summary>
    public static bool AllowsEveryModel(string[]? models) =>
        models is null || models.Length == 0 || Array.Exists(models, m => m is AllProxyModels or AllTeamModels or "*");
}
