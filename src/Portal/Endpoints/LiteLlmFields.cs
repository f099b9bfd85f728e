namespace Portal.Endpoints;

/// <summary>
/// The body fields LiteLLM's request models define per management route (BerriAI/litellm 69ee2c2,
/// <c>litellm/proxy/_types.py</c>; see docs/compatibility.md). Not a list of what the gateway takes (the handlers' reads
/// are that): it only tells a LiteLLM field the gateway refuses (a message that says so; a JSON null accepted as
/// "not set") from a name LiteLLM does not know either.
/// </summary>
internal static class LiteLlmFields
{
    /// <summary><c>GenerateRequestBase</c>: keys and users.</summary>
    private static readonly string[] GenerateBase =
    [
        "key_alias", "duration", "models", "spend", "max_budget", "user_id", "team_id", "max_parallel_requests", "metadata",
        "tpm_limit", "rpm_limit", "budget_duration", "allowed_cache_controls", "config", "permissions", "model_max_budget",
        "model_rpm_limit", "model_tpm_limit", "guardrails", "policies", "prompts", "blocked", "aliases", "object_permission",
    ];

    /// <summary><c>KeyRequestBase</c>: keys.</summary>
    private static readonly string[] KeyBase =
    [
        "key", "budget_id", "tags", "enforced_params", "allowed_routes", "allowed_passthrough_routes",
        "allowed_vector_store_indexes", "rpm_limit_type", "tpm_limit_type", "router_settings", "access_group_ids",
    ];

    private static readonly string[] GenerateKey = [.. GenerateBase, .. KeyBase,
        "soft_budget", "send_invite_email", "key_type", "auto_rotate", "rotation_interval", "organization_id"];

    private static readonly string[] Team =
    [
        "team_alias", "team_id", "organization_id", "metadata", "tpm_limit", "rpm_limit", "max_budget", "soft_budget",
        "budget_duration", "models", "blocked", "router_settings", "access_group_ids", "model_aliases", "tags", "guardrails",
        "policies", "prompts", "object_permission", "allowed_passthrough_routes", "secret_manager_settings", "model_rpm_limit",
        "model_tpm_limit", "team_member_budget", "team_member_rpm_limit", "team_member_tpm_limit", "team_member_key_duration",
        "allowed_vector_store_indexes",
    ];

    private static readonly Dictionary<string, HashSet<string>> ByRoute = new(StringComparer.Ordinal)
    {
        ["/key/generate"] = [.. GenerateKey],
        ["/key/update"] = [.. GenerateBase, .. KeyBase, "temp_budget_increase", "temp_budget_expiry", "auto_rotate", "rotation_interval"],
        ["/key/regenerate"] = [.. GenerateKey, "new_key", "new_master_key", "grace_period"],
        ["/key/{key}/regenerate"] = [.. GenerateKey, "new_key", "new_master_key", "grace_period"],
        ["/key/delete"] = ["keys", "key_aliases"],
        ["/team/new"] = [.. Team, "admins", "members", "members_with_roles", "team_member_permissions", "rpm_limit_type", "tpm_limit_type"],
        ["/team/update"] = [.. Team, "team_member_budget_duration"],
        ["/team/delete"] = ["team_ids"],
        ["/team/member_add"] = ["team_id", "member", "max_budget_in_team"],
        ["/team/member_update"] = ["team_id", "user_id", "user_email", "max_budget_in_team", "role", "tpm_limit", "rpm_limit"],
        ["/team/member_delete"] = ["team_id", "user_id", "user_email"],
        ["/user/new"] = [.. GenerateBase, "user_email", "user_alias", "user_role", "teams", "auto_create_key", "send_invite_email", "sso_user_id", "organizations"],
        ["/user/update"] = [.. GenerateBase, "password", "user_alias", "user_role", "user_email"],
        ["/model/new"] = ["model_name", "litellm_params", "model_info"],
        ["/model/update"] = ["model_name", "litellm_params", "model_info"],
        ["/model/{model_id}/update"] = ["model_name", "litellm_params", "model_info"],
        ["/model/delete"] = ["id"],
        // LiteLLM's Member: an entry of members_with_roles or member.
        ["member"] = ["user_id", "user_email", "role"],
    };

    private static readonly Dictionary<string, string> Hints = new(StringComparer.Ordinal)
    {
        ["soft_budget"] = "Soft budgets are set on keys and teams.",
        ["model_max_budget"] = "Budgets per model are set on keys (model_max_budget on /key/generate and /key/update).",
        ["model_rpm_limit"] = "Budgets and limits apply to all of the models; per-model ones are not supported.",
        ["model_tpm_limit"] = "Budgets and limits apply to all of the models; per-model ones are not supported.",
        ["rpm_limit_type"] = "rpm_limit and tpm_limit are always hard limits.",
        ["tpm_limit_type"] = "rpm_limit and tpm_limit are always hard limits.",
        ["organization_id"] = "Organizations are not supported: teams are the top level.",
        ["spend"] = "Spend is recorded from calls and cannot be set.",
        ["guardrails"] = "Guardrails are not supported.",
        ["policies"] = "Guardrail policies are not supported.",
        ["new_key"] = "The gateway always makes a random key.",
        ["grace_period"] = "The old key is refused at once.",
        ["new_master_key"] = "The master key is configuration (Proxy:MasterKey), not an API setting.",
        ["key"] = "The gateway always makes a random key.",
    };

    private static readonly HashSet<string> None = [];

    public static IReadOnlySet<string> Of(string routeOrObject) => ByRoute.GetValueOrDefault(routeOrObject) ?? None;

    public static string Hint(string field) => Hints.TryGetValue(field, out var hint) ? " " + hint : "";
}
