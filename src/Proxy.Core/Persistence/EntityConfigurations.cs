using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Proxy.Core.Audit;
using Proxy.Core.Keys;
using Proxy.Core.Models;
using Proxy.Core.Spend;
using Proxy.Core.Teams;
using Proxy.Core.Usage;
using Proxy.Core.Users;

namespace Proxy.Core.Persistence;

internal sealed class TeamConfiguration : IEntityTypeConfiguration<Team>
{
    public void Configure(EntityTypeBuilder<Team> e)
    {
        e.ToTable("teams");
        e.HasKey(t => t.TeamId);
        e.Property(t => t.TeamId).HasMaxLength(128);
        e.Property(t => t.TeamAlias).HasMaxLength(256);
        e.HasMany(t => t.Members).WithOne().HasForeignKey(m => m.TeamId).OnDelete(DeleteBehavior.Cascade);
        e.Property(t => t.BudgetDuration).HasMaxLength(16);
        e.HasIndex(t => t.BudgetResetAt);
        e.Property(t => t.ModelAliases).IsNameMap();
    }
}

internal sealed class TeamMembershipConfiguration : IEntityTypeConfiguration<TeamMembership>
{
    public void Configure(EntityTypeBuilder<TeamMembership> e)
    {
        e.ToTable("team_memberships");
        e.HasKey(m => new { m.TeamId, m.UserId });
        e.HasOne(m => m.User).WithMany().HasForeignKey(m => m.UserId).OnDelete(DeleteBehavior.Cascade);
        e.Property(m => m.Role).HasMaxLength(16);
    }
}

internal sealed class VirtualKeyConfiguration : IEntityTypeConfiguration<VirtualKey>
{
    public void Configure(EntityTypeBuilder<VirtualKey> e)
    {
        e.ToTable("keys");
        e.HasKey(k => k.Token);
        e.Property(k => k.Token).HasMaxLength(64);
        e.HasIndex(k => k.TeamId);
        e.HasIndex(k => k.KeyAlias);
        e.Property(k => k.BudgetDuration).HasMaxLength(16);
        e.HasIndex(k => k.BudgetResetAt);
        e.HasOne<Team>().WithMany().HasForeignKey(k => k.TeamId).OnDelete(DeleteBehavior.Cascade);
        e.Property(k => k.Aliases).IsNameMap();
        e.OwnsMany(k => k.ModelBudgets, b =>
        {
            b.ToTable("key_model_budgets");
            b.WithOwner().HasForeignKey(m => m.Token);
            b.HasKey(m => new { m.Token, m.Model });
            b.Property(m => m.Token).HasMaxLength(64);
            b.Property(m => m.Model).HasMaxLength(256);
            b.Property(m => m.TimePeriod).HasMaxLength(16);
            b.HasIndex(m => m.BudgetResetAt);
        });
    }
}

internal static class NameMapColumn
{
    private static readonly System.Text.Json.JsonSerializerOptions Json = new();

    /// <summary>
    /// A name → name map (model aliases) kept as a JSON object in a text column, <c>{}</c> when empty (also for the
    /// rows that existed before the column); compared by content, so a replaced map is saved.
    /// </summary>
    public static PropertyBuilder<Dictionary<string, string>> IsNameMap(this PropertyBuilder<Dictionary<string, string>> property) =>
        property.HasConversion(
                map => System.Text.Json.JsonSerializer.Serialize(map, Json),
                text => System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(text, Json) ?? new Dictionary<string, string>(),
                new Microsoft.EntityFrameworkCore.ChangeTracking.ValueComparer<Dictionary<string, string>>(
                    (a, b) => a!.Count == b!.Count && !a.Except(b).Any(),
                    map => map.Aggregate(0, (hash, pair) => hash ^ HashCode.Combine(pair.Key, pair.Value)),
                    map => new Dictionary<string, string>(map, StringComparer.Ordinal)))
            .IsRequired()
            .HasDefaultValueSql("'{}'");
}

internal sealed class ModelDeploymentConfiguration : IEntityTypeConfiguration<ModelDeployment>
{
    public void Configure(EntityTypeBuilder<ModelDeployment> e)
    {
        e.ToTable("model_deployments");
        e.HasKey(m => m.ModelId);
        e.HasIndex(m => m.ModelName);
        e.HasIndex(m => m.TeamId);
        e.HasOne<Team>().WithMany().HasForeignKey(m => m.TeamId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ModelAliasConfiguration : IEntityTypeConfiguration<ModelAlias>
{
    public void Configure(EntityTypeBuilder<ModelAlias> e)
    {
        e.ToTable("model_aliases");
        // The key makes "one public name → one internal group per team" a database fact, even under concurrent writes.
        e.HasKey(a => new { a.TeamId, a.PublicName });
        e.HasOne<Team>().WithMany().HasForeignKey(a => a.TeamId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class AuditEventConfiguration : IEntityTypeConfiguration<AuditEvent>
{
    public void Configure(EntityTypeBuilder<AuditEvent> e)
    {
        e.ToTable("audit_events");
        e.HasKey(a => a.Id);
        e.HasIndex(a => new { a.TeamId, a.At });
    }
}

internal sealed class UsageRecordConfiguration : IEntityTypeConfiguration<UsageRecord>
{
    public void Configure(EntityTypeBuilder<UsageRecord> e)
    {
        e.ToTable("usage_records");
        e.HasKey(u => u.Id);
        e.HasIndex(u => new { u.TeamId, u.StartedAt });
        e.Property(u => u.Error).HasMaxLength(UsageRecord.ErrorLength);
    }
}

internal sealed class PortalUserBudgetConfiguration : IEntityTypeConfiguration<PortalUser>
{
    public void Configure(EntityTypeBuilder<PortalUser> e)
    {
        e.Property(u => u.BudgetDuration).HasMaxLength(16);
        e.HasIndex(u => u.BudgetResetAt);
    }
}

internal sealed class RateWindowConfiguration : IEntityTypeConfiguration<RateWindow>
{
    public void Configure(EntityTypeBuilder<RateWindow> e)
    {
        e.ToTable("rate_windows");
        e.HasKey(w => new { w.Kind, w.AccountId, w.Instance });
        e.Property(w => w.Kind).HasConversion<string>().HasMaxLength(16);
        e.Property(w => w.AccountId).HasMaxLength(128);
        e.Property(w => w.Instance).HasMaxLength(64);
        e.HasIndex(w => w.Window);
    }
}

internal sealed class RouteChangeConfiguration : IEntityTypeConfiguration<RouteChange>
{
    public void Configure(EntityTypeBuilder<RouteChange> e)
    {
        e.ToTable("route_changes");
        e.HasKey(c => c.Id);
        e.HasIndex(c => c.Version);
    }
}

internal sealed class RouteDataVersionConfiguration : IEntityTypeConfiguration<RouteDataVersion>
{
    public void Configure(EntityTypeBuilder<RouteDataVersion> e)
    {
        e.ToTable("route_data_version");
        e.HasKey(v => v.Id);
        e.Property(v => v.Id).ValueGeneratedNever();
        e.HasData(new RouteDataVersion { Id = 1, Version = 0 });
    }
}
