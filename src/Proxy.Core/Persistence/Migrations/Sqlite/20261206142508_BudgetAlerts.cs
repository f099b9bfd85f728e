using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Proxy.Core.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class BudgetAlerts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "AlertWebhookCipher",
                table: "teams",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "AlertsSent",
                table: "teams",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<double>(
                name: "SoftBudget",
                table: "teams",
                type: "REAL",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "AlertsSent",
                table: "keys",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<double>(
                name: "SoftBudget",
                table: "keys",
                type: "REAL",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "AlertWebhookCipher",
                table: "teams");

            migrationBuilder.DropColumn(
                name: "AlertsSent",
                table: "teams");

            migrationBuilder.DropColumn(
                name: "SoftBudget",
                table: "teams");

            migrationBuilder.DropColumn(
                name: "AlertsSent",
                table: "keys");

            migrationBuilder.DropColumn(
                name: "SoftBudget",
                table: "keys");
        }
    }
}
