using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Proxy.Core.Persistence;

namespace Portal.Tests.Infrastructure;

/// <summary>A comparable dump of what the management API writes, to prove a failed request changed nothing.</summary>
public static class DatabaseState
{
    public static async Task<string> DumpAsync(this GatewayFactory factory)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
        var teams = await db.Teams.AsNoTracking().OrderBy(t => t.TeamId).Select(t => new { t.TeamId, t.TeamAlias, t.Models, t.Blocked, t.UpdatedAt }).ToListAsync();
        var members = await db.Memberships.AsNoTracking().OrderBy(m => m.TeamId).ThenBy(m => m.UserId).Select(m => new { m.TeamId, m.UserId, m.Role }).ToListAsync();
        var keys = await db.Keys.AsNoTracking().OrderBy(k => k.Token).Select(k => new { k.Token, k.KeyAlias, k.TeamId, k.Blocked, k.Models, k.UpdatedAt }).ToListAsync();
        var models = await db.Deployments.AsNoTracking().OrderBy(d => d.ModelId).Select(d => new { d.ModelId, d.ModelName, d.ApiBase, d.ApiKeyHint, d.UpdatedAt }).ToListAsync();
        var aliases = await db.Aliases.AsNoTracking().OrderBy(a => a.TeamId).ThenBy(a => a.PublicName).ToListAsync();
        var users = await db.Users.AsNoTracking().OrderBy(u => u.Id).Select(u => new { u.Id, u.Email }).ToListAsync();
        var audit = await db.AuditEvents.CountAsync();
        return System.Text.Json.JsonSerializer.Serialize(new { teams, members, keys, models, aliases, users, audit });
    }
}
