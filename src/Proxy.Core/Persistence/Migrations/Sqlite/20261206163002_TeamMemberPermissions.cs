using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Proxy.Core.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class TeamMemberPermissions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "TeamMemberPermissions",
                table: "teams",
                type: "TEXT",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "TeamMemberPermissions",
                table: "teams");
        }
    }
}
