using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Proxy.Core.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class PortalDailyTool : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Error",
                table: "usage_records",
                type: "character varying(300)",
                maxLength: 300,
                nullable: true);

            migrationBuilder.AddColumn<List<string>>(
                name: "TeamMemberPermissions",
                table: "teams",
                type: "text[]",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Error",
                table: "usage_records");

            migrationBuilder.DropColumn(
                name: "TeamMemberPermissions",
                table: "teams");
        }
    }
}
