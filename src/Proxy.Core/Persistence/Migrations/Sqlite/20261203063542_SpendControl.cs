using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Proxy.Core.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class SpendControl : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<double>(
                name: "Spend",
                table: "usage_records",
                type: "REAL",
                nullable: false,
                defaultValue: 0.0);

            migrationBuilder.AddColumn<bool>(
                name: "TokensEstimated",
                table: "usage_records",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "UserId",
                table: "usage_records",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "BudgetDuration",
                table: "teams",
                type: "TEXT",
                maxLength: 16,
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "BudgetResetAt",
                table: "teams",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "BudgetDuration",
                table: "keys",
                type: "TEXT",
                maxLength: 16,
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "BudgetResetAt",
                table: "keys",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "MaxParallelRequests",
                table: "keys",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "BudgetDuration",
                table: "AspNetUsers",
                type: "TEXT",
                maxLength: 16,
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "BudgetResetAt",
                table: "AspNetUsers",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "MaxBudget",
                table: "AspNetUsers",
                type: "REAL",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "Spend",
                table: "AspNetUsers",
                type: "REAL",
                nullable: false,
                defaultValue: 0.0);

            migrationBuilder.CreateTable(
                name: "rate_windows",
                columns: table => new
                {
                    Kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    AccountId = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    Instance = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Window = table.Column<long>(type: "INTEGER", nullable: false),
                    Requests = table.Column<int>(type: "INTEGER", nullable: false),
                    Tokens = table.Column<long>(type: "INTEGER", nullable: false),
                    InFlight = table.Column<int>(type: "INTEGER", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_rate_windows", x => new { x.Kind, x.AccountId, x.Instance });
                });

            migrationBuilder.CreateIndex(
                name: "IX_teams_BudgetResetAt",
                table: "teams",
                column: "BudgetResetAt");

            migrationBuilder.CreateIndex(
                name: "IX_keys_BudgetResetAt",
                table: "keys",
                column: "BudgetResetAt");

            migrationBuilder.CreateIndex(
                name: "IX_AspNetUsers_BudgetResetAt",
                table: "AspNetUsers",
                column: "BudgetResetAt");

            migrationBuilder.CreateIndex(
                name: "IX_rate_windows_Window",
                table: "rate_windows",
                column: "Window");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "rate_windows");

            migrationBuilder.DropIndex(
                name: "IX_teams_BudgetResetAt",
                table: "teams");

            migrationBuilder.DropIndex(
                name: "IX_keys_BudgetResetAt",
                table: "keys");

            migrationBuilder.DropIndex(
                name: "IX_AspNetUsers_BudgetResetAt",
                table: "AspNetUsers");

            migrationBuilder.DropColumn(
                name: "Spend",
                table: "usage_records");

            migrationBuilder.DropColumn(
                name: "TokensEstimated",
                table: "usage_records");

            migrationBuilder.DropColumn(
                name: "UserId",
                table: "usage_records");

            migrationBuilder.DropColumn(
                name: "BudgetDuration",
                table: "teams");

            migrationBuilder.DropColumn(
                name: "BudgetResetAt",
                table: "teams");

            migrationBuilder.DropColumn(
                name: "BudgetDuration",
                table: "keys");

            migrationBuilder.DropColumn(
                name: "BudgetResetAt",
                table: "keys");

            migrationBuilder.DropColumn(
                name: "MaxParallelRequests",
                table: "keys");

            migrationBuilder.DropColumn(
                name: "BudgetDuration",
                table: "AspNetUsers");

            migrationBuilder.DropColumn(
                name: "BudgetResetAt",
                table: "AspNetUsers");

            migrationBuilder.DropColumn(
                name: "MaxBudget",
                table: "AspNetUsers");

            migrationBuilder.DropColumn(
                name: "Spend",
                table: "AspNetUsers");
        }
    }
}
