using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Proxy.Core.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Aggregates : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "CacheCreationTokens",
                table: "usage_records",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "CacheReadTokens",
                table: "usage_records",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<string>(
                name: "Provider",
                table: "usage_records",
                type: "text",
                nullable: false,
                defaultValue: "");

            migrationBuilder.CreateTable(
                name: "daily_usage",
                columns: table => new
                {
                    Day = table.Column<DateOnly>(type: "date", nullable: false),
                    TeamId = table.Column<string>(type: "text", nullable: false),
                    KeyHash = table.Column<string>(type: "text", nullable: false),
                    UserId = table.Column<string>(type: "text", nullable: false),
                    Model = table.Column<string>(type: "text", nullable: false),
                    Provider = table.Column<string>(type: "text", nullable: false),
                    ApiRequests = table.Column<long>(type: "bigint", nullable: false),
                    SuccessfulRequests = table.Column<long>(type: "bigint", nullable: false),
                    FailedRequests = table.Column<long>(type: "bigint", nullable: false),
                    PromptTokens = table.Column<long>(type: "bigint", nullable: false),
                    CompletionTokens = table.Column<long>(type: "bigint", nullable: false),
                    CacheReadTokens = table.Column<long>(type: "bigint", nullable: false),
                    CacheCreationTokens = table.Column<long>(type: "bigint", nullable: false),
                    Spend = table.Column<double>(type: "double precision", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_daily_usage", x => new { x.TeamId, x.Day, x.KeyHash, x.UserId, x.Model, x.Provider });
                });

            migrationBuilder.CreateIndex(
                name: "IX_daily_usage_UserId_Day",
                table: "daily_usage",
                columns: new[] { "UserId", "Day" });

            // Hand-written (keep it when the migrations are regenerated): the calls recorded before the aggregates
            // existed, summed once, so the reports cover them too (their provider and cache tokens were not recorded).
            migrationBuilder.Sql("""
                INSERT INTO daily_usage ("Day", "TeamId", "KeyHash", "UserId", "Model", "Provider", "ApiRequests", "SuccessfulRequests", "FailedRequests",
                    "PromptTokens", "CompletionTokens", "CacheReadTokens", "CacheCreationTokens", "Spend")
                SELECT ("StartedAt" AT TIME ZONE 'UTC')::date, COALESCE("TeamId", ''), "KeyHash", COALESCE("UserId", ''), "Model", "Provider", COUNT(*),
                    SUM(CASE WHEN "Status" < 400 THEN 1 ELSE 0 END), SUM(CASE WHEN "Status" >= 400 THEN 1 ELSE 0 END), SUM("PromptTokens"), SUM("CompletionTokens"), 0, 0, SUM("Spend")
                FROM usage_records
                GROUP BY ("StartedAt" AT TIME ZONE 'UTC')::date, COALESCE("TeamId", ''), "KeyHash", COALESCE("UserId", ''), "Model", "Provider"
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "daily_usage");

            migrationBuilder.DropColumn(
                name: "CacheCreationTokens",
                table: "usage_records");

            migrationBuilder.DropColumn(
                name: "CacheReadTokens",
                table: "usage_records");

            migrationBuilder.DropColumn(
                name: "Provider",
                table: "usage_records");
        }
    }
}
