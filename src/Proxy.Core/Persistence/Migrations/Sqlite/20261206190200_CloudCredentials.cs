using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Proxy.Core.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class CloudCredentials : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "AwsRegionName",
                table: "model_deployments",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "CloudSecretsCipher",
                table: "model_deployments",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "CloudSecretsHint",
                table: "model_deployments",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "VertexLocation",
                table: "model_deployments",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "VertexProject",
                table: "model_deployments",
                type: "TEXT",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "AwsRegionName",
                table: "model_deployments");

            migrationBuilder.DropColumn(
                name: "CloudSecretsCipher",
                table: "model_deployments");

            migrationBuilder.DropColumn(
                name: "CloudSecretsHint",
                table: "model_deployments");

            migrationBuilder.DropColumn(
                name: "VertexLocation",
                table: "model_deployments");

            migrationBuilder.DropColumn(
                name: "VertexProject",
                table: "model_deployments");
        }
    }
}
