using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Proxy.Core.Audit;
using Proxy.Core.Keys;
using Proxy.Core.Models;
using Proxy.Core.Teams;
using Proxy.Core.Usage;
using Proxy.Core.Users;

namespace Proxy.Core.Persistence;

/// <summary>
/// The one EF Core model. <see cref="SqlitePortalDb"/> and <see cref="PostgresPortalDb"/> only select the
/// provider, so each gets its own migrations from the same model.
/// </summary>
public abstract class PortalDb(DbContextOptions options) : IdentityDbContext<PortalUser>(options), IDataProtectionKeyContext
{
    public DbSet<Team> Teams => Set<Team>();
    public DbSet<TeamMembership> Memberships => Set<TeamMembership>();
    public DbSet<VirtualKey> Keys => Set<VirtualKey>();
    public DbSet<ModelDeployment> Deployments => Set<ModelDeployment>();
    public DbSet<ModelAlias> Aliases => Set<ModelAlias>();
    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();
    public DbSet<UsageRecord> Usage => Set<UsageRecord>();
    public DbSet<Reports.DailyUsage> DailyUsage => Set<Reports.DailyUsage>();
    public DbSet<RouteDataVersion> RouteDataVersions => Set<RouteDataVersion>();
    public DbSet<RouteChange> RouteChanges => Set<RouteChange>();
    public DbSet<Spend.RateWindow> RateWindows => Set<Spend.RateWindow>();

    /// <summary>The portal's Data Protection key ring, shared by every instance (<see cref="Secrets.KeyRing"/>).</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(PortalDb).Assembly);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder builder)
    {
        // SQLite hands DateTime back as Unspecified and Npgsql insists on Utc: store and read UTC everywhere.
        builder.Properties<DateTime>().HaveConversion<UtcConverter>();
        builder.Properties<DateTime?>().HaveConversion<NullableUtcConverter>();
    }

    private sealed class UtcConverter() : ValueConverter<DateTime, DateTime>(
        v => v.ToUniversalTime(), v => DateTime.SpecifyKind(v, DateTimeKind.Utc));

    private sealed class NullableUtcConverter() : ValueConverter<DateTime?, DateTime?>(
        v => v.HasValue ? v.Value.ToUniversalTime() : v,
        v => v.HasValue ? DateTime.SpecifyKind(v.Value, DateTimeKind.Utc) : v);
}

public sealed class SqlitePortalDb(DbContextOptions<SqlitePortalDb> options) : PortalDb(options);

public sealed class PostgresPortalDb(DbContextOptions<PostgresPortalDb> options) : PortalDb(options)
{
    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        // A text[] column added to a table with rows needs a default (SQLite's JSON column gets "[]" by itself):
        // the users who were there before user models existed have none, so no restriction.
        builder.Entity<Users.PortalUser>().Property(u => u.Models).HasDefaultValueSql("'{}'");
    }
}

/// <summary>
/// What a version changed: one team (<see cref="TeamId"/>), or, when null, anything (global models, users, teamless
/// keys). Instances read the rows newer than their snapshot and reload only those teams.
/// </summary>
public sealed class RouteChange
{
    public long Id { get; set; }
    public long Version { get; set; }
    public string? TeamId { get; set; }
}

/// <summary>
/// A single row counting changes to the data the route snapshot is built from. Every management write bumps it
/// inside its transaction (which also serialises concurrent writers); every instance polls it to know when to reload.
/// </summary>
public sealed class RouteDataVersion
{
    public int Id { get; set; }
    public long Version { get; set; }
}
