using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Proxy.Core.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class BudgetsThatHold : Migration
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

            migrationBuilder.CreateTable(
                name: "key_model_budgets",
                columns: table => new
                {
                    Token = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Model = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    BudgetLimit = table.Column<double>(type: "double precision", nullable: false),
                    TimePeriod = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: true),
                    Spend = table.Column<double>(type: "double precision", nullable: false),
                    BudgetResetAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_key_model_budgets", x => new { x.Token, x.Model });
                    table.ForeignKey(
                        name: "FK_key_model_budgets_keys_Token",
                        column: x => x.Token,
                        principalTable: "keys",
                        principalColumn: "Token",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_key_model_budgets_BudgetResetAt",
                table: "key_model_budgets",
                column: "BudgetResetAt");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "key_model_budgets");

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
