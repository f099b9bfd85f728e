using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Proxy.Core.Persistence.Migrations.Postgres
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
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "AlertsSent",
                table: "teams",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<double>(
                name: "SoftBudget",
                table: "teams",
                type: "double precision",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "AlertsSent",
                table: "keys",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<double>(
                name: "SoftBudget",
                table: "keys",
                type: "double precision",
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
