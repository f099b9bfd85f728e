using Microsoft.EntityFrameworkCore;
using Proxy.Core.Access;
using Proxy.Core.Persistence;
using Proxy.Core.Spend;
using Proxy.Core.Teams;

namespace Proxy.Core.Keys;

/// <summary>Virtual keys. Only hashes are stored; the raw key is handed out once by generate and regenerate.</summary>
public sealed class KeyService(Changes changes, TeamService teams)
{
    private PortalDb Db => changes.Db;

    public async Task<IssuedKey> GenerateAsync(Caller caller, KeyInput input, CancellationToken ct = default)
    {
        var teamId = input.TeamId is null ? null : Check.Required(input.TeamId, "team_id", 128);
        var owner = Demand.CreateKey(caller, teamId, input.UserId, await MemberPermissionsAsync(teamId, ct));
        var raw = KeyMaterial.NewKey();
        var now = changes.Now;
        var key = new VirtualKey
        {
            Token = KeyMaterial.Hash(raw),
            KeyName = KeyMaterial.Mask(raw),
            TeamId = teamId,
            UserId = owner,
            CreatedAt = now,
            UpdatedAt = now,
            CreatedBy = caller.Id,
            UpdatedBy = caller.Id,
        };
        Apply(key, input, now);

        await changes.ApplyAsync(async () =>
        {
            if (teamId is not null && !await Db.Teams.AnyAsync(t => t.TeamId == teamId, ct))
            {
                throw ProxyError.BadRequest($"Team id={teamId} does not exist.", "team_id");
            }
            await DemandUniqueAliasAsync(key.KeyAlias, key.Token, ct);
            await DemandValidOwnerAsync(caller, key, ct);
            await ApplyAliasesAsync(key, input.Aliases, ct);
            Db.Keys.Add(key);
            changes.Audit(caller, "key.generate", teamId, key.KeyName, Describe(key));
            Touch(key);
            return key;
        }, ct);
        return new IssuedKey(raw, key);
    }

    /// <summary>The key named by raw value or hash; without one, the caller's own key.</summary>
    public async Task<VirtualKey> InfoAsync(Caller caller, string? key, CancellationToken ct = default)
    {
        var hash = key is null
            ? caller.Key?.Hash ?? throw ProxyError.BadRequest("key is required: pass ?key=sk-... (the master key has no key info).", "key")
            : KeyMaterial.ToHash(key);
        return Demand.VisibleKey(caller, await Db.Keys.AsNoTracking().SingleOrDefaultAsync(k => k.Token == hash, ct));
    }

    /// <summary>Keys the caller may see (the same rule as <see cref="InfoAsync"/>), newest first, one page at a time.</summary>
    public async Task<(IReadOnlyList<VirtualKey> Keys, int Total)> ListAsync(Caller caller, string? teamId, int page, int pageSize, CancellationToken ct = default)
    {
        var query = Db.Keys.AsNoTracking().Where(KeyVisibility.Of(caller));
        if (teamId is not null)
        {
            query = query.Where(k => k.TeamId == teamId);
        }
        var total = await query.CountAsync(ct);
        var keys = await query.OrderByDescending(k => k.CreatedAt).Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(ct);
        return (keys, total);
    }

    public async Task<VirtualKey> UpdateAsync(Caller caller, string? key, KeyInput input, CancellationToken ct = default)
    {
        var hash = KeyMaterial.ToHash(Check.Required(key, "key", 4096));
        return await changes.ApplyAsync(async () =>
        {
            var found = await FindManageableAsync(caller, hash, TeamMemberPermissions.Update, ct);
            if (input.TeamId is not null && input.TeamId != found.TeamId)
            {
                throw StaysInItsTeam();
            }
            var before = Audit.AuditChanges.Snapshot(Describe(found));
            var wasBlocked = found.Blocked;
            Apply(found, input, changes.Now);
            found.UpdatedAt = changes.Now;
            found.UpdatedBy = caller.Id;
            await DemandUniqueAliasAsync(found.KeyAlias, found.Token, ct);
            await DemandValidOwnerAsync(caller, found, ct);
            await ApplyAliasesAsync(found, input.Aliases, ct);
            // Blocking is an update on the wire (/key/update blocked=true), but a different act in the log.
            var action = wasBlocked == found.Blocked ? "key.update" : found.Blocked ? "key.block" : "key.unblock";
            changes.Audit(caller, action, found.TeamId, found.KeyName, Audit.AuditChanges.Between(before, Describe(found)));
            Touch(found);
            return found;
        }, ct);
    }

    /// <summary>Deletes all the named keys or none; returns them as the caller named them.</summary>
    public async Task<IReadOnlyList<string>> DeleteAsync(Caller caller, IReadOnlyList<string>? keys, IReadOnlyList<string>? aliases, CancellationToken ct = default)
    {
        if ((keys?.Count ?? 0) + (aliases?.Count ?? 0) == 0)
        {
            throw ProxyError.BadRequest("Name the keys to delete: {\"keys\": [\"sk-...\"]} or {\"key_aliases\": [\"...\"]}.", "keys");
        }
        return await changes.ApplyAsync(async () =>
        {
            var deleted = new List<string>();
            foreach (var key in keys ?? [])
            {
                Db.Keys.Remove(await FindManageableAsync(caller, KeyMaterial.ToHash(key), TeamMemberPermissions.Delete, ct));
                deleted.Add(key);
            }
            foreach (var alias in aliases ?? [])
            {
                var found = await Db.Keys.Where(k => k.KeyAlias == alias).ToListAsync(ct);
                var visible = new List<VirtualKey>();
                foreach (var candidate in found)
                {
                    if (Rules.CanHandleKey(caller, candidate.TeamId, candidate.UserId, TeamMemberPermissions.Delete, await MemberPermissionsAsync(candidate.TeamId, ct)))
                    {
                        visible.Add(candidate);
                    }
                }
                if (visible.Count == 0)
                {
                    throw ProxyError.NotFound($"No key with key_alias '{alias}' that you can manage.", "key_aliases");
                }
                Db.Keys.RemoveRange(visible);
                deleted.Add(alias);
            }
            foreach (var key in Db.ChangeTracker.Entries<VirtualKey>().Where(e => e.State == EntityState.Deleted).Select(e => e.Entity))
            {
                changes.Audit(caller, "key.delete", key.TeamId, key.KeyName, new { key.KeyName, key.KeyAlias });
                Touch(key);
            }
            return (IReadOnlyList<string>)deleted;
        }, ct);
    }

    /// <summary>Issues a new raw key for the same settings; the old one stops working at once.</summary>
    public async Task<IssuedKey> RegenerateAsync(Caller caller, string? key, KeyInput? changesToApply = null, CancellationToken ct = default)
    {
        var hash = KeyMaterial.ToHash(Check.Required(key, "key", 4096));
        var raw = KeyMaterial.NewKey();
        var fresh = await changes.ApplyAsync(async () =>
        {
            var old = await FindManageableAsync(caller, hash, TeamMemberPermissions.Regenerate, ct);
            if (changesToApply?.TeamId is { } teamId && teamId != old.TeamId)
            {
                // As /key/update: the fresh key copies the old one's team, so another team_id would be dropped.
                throw StaysInItsTeam();
            }
            Db.Keys.Remove(old);
            var now = changes.Now;
            var fresh = new VirtualKey
            {
                Token = KeyMaterial.Hash(raw),
                KeyName = KeyMaterial.Mask(raw),
                KeyAlias = old.KeyAlias,
                TeamId = old.TeamId,
                UserId = old.UserId,
                Models = old.Models,
                KeyType = old.KeyType,
                ExpiresAt = old.ExpiresAt,
                Blocked = old.Blocked,
                MaxBudget = old.MaxBudget,
                Spend = old.Spend,
                BudgetDuration = old.BudgetDuration,
                BudgetResetAt = old.BudgetResetAt,
                SoftBudget = old.SoftBudget,
                AlertsSent = old.AlertsSent,
                TpmLimit = old.TpmLimit,
                RpmLimit = old.RpmLimit,
                MaxParallelRequests = old.MaxParallelRequests,
                Metadata = old.Metadata,
                Aliases = new(old.Aliases, StringComparer.Ordinal),
                ModelBudgets = KeyModelBudgets.CopyFor(KeyMaterial.Hash(raw), old.ModelBudgets),
                CreatedAt = old.CreatedAt,
                CreatedBy = old.CreatedBy,
                UpdatedAt = now,
                UpdatedBy = caller.Id,
            };
            if (changesToApply is not null)
            {
                Apply(fresh, changesToApply, now);
                await ApplyAliasesAsync(fresh, changesToApply.Aliases, ct);
            }
            Db.Keys.Add(fresh);
            changes.Audit(caller, "key.regenerate", fresh.TeamId, fresh.KeyName,
                new { old_key_name = old.KeyName, fresh.KeyName, aliases = changesToApply?.Aliases });
            Touch(fresh);
            return fresh;
        }, ct);
        return new IssuedKey(raw, fresh);
    }

    private void Touch(VirtualKey key)
    {
        if (key.TeamId is null)
        {
            changes.TouchEverything();
        }
        else
        {
            changes.TouchTeam(key.TeamId);
        }
    }

    /// <param name="route">What is done to the key, as <see cref="TeamMemberPermissions"/> names it (a member may handle their own keys).</param>
    private async Task<VirtualKey> FindManageableAsync(Caller caller, string hash, string route, CancellationToken ct)
    {
        var key = await Db.Keys.SingleOrDefaultAsync(k => k.Token == hash, ct);
        return Demand.ManageableKey(caller, key, route, await MemberPermissionsAsync(key?.TeamId, ct));
    }

    /// <summary>The key routes the team's plain members may use on their own keys (LiteLLM's <c>team_member_permissions</c>).</summary>
    private async Task<IReadOnlyList<string>> MemberPermissionsAsync(string? teamId, CancellationToken ct) =>
        teamId is null ? [] : await Db.Teams.AsNoTracking().Where(t => t.TeamId == teamId).Select(t => t.TeamMemberPermissions).SingleOrDefaultAsync(ct)
            ?? TeamMemberPermissions.Default;

    private async Task DemandUniqueAliasAsync(string? alias, string token, CancellationToken ct)
    {
        if (alias is not null && await Db.Keys.AnyAsync(k => k.KeyAlias == alias && k.Token != token, ct))
        {
            throw ProxyError.BadRequest($"key_alias '{alias}' is already used by another key. Key aliases are unique.", "key_alias");
        }
    }

    /// <summary>The owner rule of <see cref="KeyOwnership"/>; a user the proxy admin names is created if unknown.</summary>
    private async Task DemandValidOwnerAsync(Caller caller, VirtualKey key, CancellationToken ct)
    {
        if (await KeyOwnership.DemandValidOwnerAsync(caller, key, Db.Memberships, ct))
        {
            await teams.FindOrCreateUserAsync(key.UserId, null, ct);
        }
    }

    /// <summary>
    /// The key's <c>aliases</c> replace its whole map. The alias name need not be in <c>models</c> and may not hide one of
    /// its team's own public model names; the target is checked when a call uses it.
    /// </summary>
    private async Task ApplyAliasesAsync(VirtualKey key, IReadOnlyDictionary<string, string>? aliases, CancellationToken ct)
    {
        if (aliases is not null)
        {
            key.Aliases = await Models.AliasMap.CheckedAsync(Db, key.TeamId, aliases, "aliases", ct);
        }
    }

    private static ProxyError StaysInItsTeam() =>
        ProxyError.BadRequest("A key cannot move between teams (team_id). Create a new key for the other team.", "team_id");

    private static void Apply(VirtualKey key, KeyInput input, DateTime now)
    {
        if (input.UserId is not null) key.UserId = Check.Id(input.UserId, "user_id");
        if (input.KeyAlias is not null) key.KeyAlias = Check.Text(input.KeyAlias, "key_alias");
        if (input.Models is not null) key.Models = Check.Names(input.Models, "models")!;
        if (input.KeyType is not null)
        {
            key.KeyType = KeyType.IsValid(input.KeyType) ? input.KeyType
                : throw ProxyError.BadRequest($"key_type '{input.KeyType}' is not valid: use default, llm_api or management.", "key_type");
        }
        if (input.Duration is not null) key.ExpiresAt = now + Check.Duration(input.Duration, "duration");
        Alerts.BudgetThresholds.Apply(key, input.MaxBudget, input.SoftBudget, input.BudgetDuration, now);
        if (input.TpmLimit.IsGiven) key.TpmLimit = LimitRules.TpmLimit(input.TpmLimit.Value);
        if (input.RpmLimit.IsGiven) key.RpmLimit = LimitRules.RpmLimit(input.RpmLimit.Value);
        if (input.MaxParallelRequests.IsGiven) key.MaxParallelRequests = LimitRules.MaxParallelRequests(input.MaxParallelRequests.Value);
        if (input.Metadata is not null) key.Metadata = input.Metadata;
        if (input.Tags is not null) key.Metadata = Tags.Into(key.Metadata, input.Tags);
        if (input.Blocked is not null) key.Blocked = input.Blocked.Value;
        if (input.ModelMaxBudget.IsGiven) KeyModelBudgets.Apply(key, input.ModelMaxBudget.Value, now);
    }

    private static object Describe(VirtualKey k) => new
    {
        k.KeyName, k.KeyAlias, k.TeamId, k.UserId, k.Models, k.KeyType, k.ExpiresAt, k.Blocked, k.MaxBudget, k.SoftBudget, k.BudgetDuration, k.TpmLimit, k.RpmLimit,
        k.MaxParallelRequests, k.Aliases,
        ModelMaxBudget = k.ModelBudgets.ToDictionary(b => b.Model, b => new { b.BudgetLimit, b.TimePeriod }),
    };
}
