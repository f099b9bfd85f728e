using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Proxy.Core.Reports;

internal sealed class DailyUsageConfiguration : IEntityTypeConfiguration<DailyUsage>
{
    public void Configure(EntityTypeBuilder<DailyUsage> e)
    {
        e.ToTable(DailyUsageTable.Name);
        // Team first: a team's report reads its own slice of the key, day by day, whatever other teams called.
        e.HasKey(d => new { d.TeamId, d.Day, d.KeyHash, d.UserId, d.Model, d.Provider });
        // /user/daily/activity reads one user's slice the same way.
        e.HasIndex(d => new { d.UserId, d.Day });
    }
}
