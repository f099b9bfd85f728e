using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Proxy.Core.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class LiteLLMCompatibility : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "ResponseId",
                table: "usage_records",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ModelAliases",
                table: "teams",
                type: "text",
                nullable: false,
                defaultValueSql: "'{}'");

            migrationBuilder.AddColumn<double>(
                name: "MaxBudgetInTeam",
                table: "team_memberships",
                type: "double precision",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "Spend",
                table: "team_memberships",
                type: "double precision",
                nullable: false,
                defaultValue: 0.0);

            migrationBuilder.AddColumn<string>(
                name: "Aliases",
                table: "keys",
                type: "text",
                nullable: false,
                defaultValueSql: "'{}'");

            migrationBuilder.AddColumn<List<string>>(
                name: "Models",
                table: "AspNetUsers",
                type: "text[]",
                nullable: false,
                defaultValueSql: "'{}'");

            migrationBuilder.AddColumn<long>(
                name: "RpmLimit",
                table: "AspNetUsers",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "TpmLimit",
                table: "AspNetUsers",
                type: "bigint",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ResponseId",
                table: "usage_records");

            migrationBuilder.DropColumn(
                name: "ModelAliases",
                table: "teams");

            migrationBuilder.DropColumn(
                name: "MaxBudgetInTeam",
                table: "team_memberships");

            migrationBuilder.DropColumn(
                name: "Spend",
                table: "team_memberships");

            migrationBuilder.DropColumn(
                name: "Aliases",
                table: "keys");

            migrationBuilder.DropColumn(
                name: "Models",
                table: "AspNetUsers");

            migrationBuilder.DropColumn(
                name: "RpmLimit",
                table: "AspNetUsers");

            migrationBuilder.DropColumn(
                name: "TpmLimit",
                table: "AspNetUsers");
        }
    }
}
