using Microsoft.EntityFrameworkCore;
using Proxy.Core.Access;
using Proxy.Core.Persistence;
using Proxy.Core.Providers;
using Proxy.Core.Routing;
using Proxy.Core.Secrets;
using Proxy.Core.Teams;

namespace Proxy.Core.Models;

/// <summary>
/// Model deployments, global and team-owned. A team model lives under an internal name
/// <c>model_name_{team_id}_{uuid}</c> that the team's alias table maps its public name to.
/// </summary>
public sealed class ModelService(Changes changes, SecretBox secrets, RouteTable routes, Forwarding.UpstreamPolicy upstreams)
{
    private PortalDb Db => changes.Db;

    public async Task<ModelDeployment> AddAsync(Caller caller, ModelInput input, CancellationToken ct = default)
    {
        var publicName = WildcardChecked(Check.Required(input.ModelName, "model_name"));
        var upstream = Check.Required(input.UpstreamModel, "litellm_params.model");
        var teamId = input.TeamId is null ? null : Check.Required(input.TeamId, "model_info.team_id", 128);
        Demand.ManageModel(caller, teamId);
        var modelId = input.ModelId is null ? Guid.NewGuid().ToString() : Check.Id(input.ModelId, "model_info.id");
        var deployment = new ModelDeployment { ModelId = modelId, UpstreamModel = upstream };
        ApplyParams(deployment, input);

        return await changes.ApplyAsync(async () =>
        {
            if (teamId is not null && !await Db.Teams.AnyAsync(t => t.TeamId == teamId, ct))
            {
                throw ProxyError.BadRequest($"Team id={teamId} does not exist.", "model_info.team_id");
            }
            if (input.ModelId is not null && await Db.Deployments.AnyAsync(d => d.ModelId == modelId, ct))
            {
                throw ProxyError.BadRequest($"A model with id {modelId} already exists: choose another model_info.id, or leave it out for a new uuid.", "model_info.id");
            }
            var now = changes.Now;
            deployment.TeamId = teamId;
            deployment.CreatedAt = deployment.UpdatedAt = now;
            deployment.CreatedBy = deployment.UpdatedBy = caller.Id;
            await JoinGroupAsync(deployment, publicName, ct);
            Db.Deployments.Add(deployment);
            changes.Audit(caller, "model.create", teamId, deployment.ModelId, Describe(deployment));
            Touch(deployment);
            return deployment;
        }, ct);
    }

    /// <summary>Partial change: what the input leaves out stays; a new api_key replaces the stored one.</summary>
    public async Task<ModelDeployment> UpdateAsync(Caller caller, string? modelId, ModelInput input, CancellationToken ct = default)
    {
        modelId = Check.Required(modelId, "model_info.id", 128);
        return await changes.ApplyAsync(async () =>
        {
            var deployment = await Db.Deployments.SingleOrDefaultAsync(d => d.ModelId == modelId, ct);
            deployment = Demand.VisibleModel(caller, KeyTeam(caller), deployment, modelId);
            Demand.ManageModel(caller, deployment.TeamId);
            var before = Audit.AuditChanges.Snapshot(Describe(deployment));
            if (input.TeamId is not null && input.TeamId != deployment.TeamId)
            {
                throw ProxyError.BadRequest("A model cannot move between teams (model_info.team_id). Delete it and add it to the other team.", "model_info.team_id");
            }
            if (input.UpstreamModel is not null)
            {
                deployment.UpstreamModel = Check.Required(input.UpstreamModel, "litellm_params.model");
            }
            ApplyParams(deployment, input);
            var newName = input.ModelName is null ? null : WildcardChecked(Check.Required(input.ModelName, "model_name"));
            if (newName is not null && newName != (deployment.PublicName ?? deployment.ModelName))
            {
                await LeaveGroupAsync(deployment, ct);
                await JoinGroupAsync(deployment, newName, ct);
            }
            deployment.UpdatedAt = changes.Now;
            deployment.UpdatedBy = caller.Id;
            changes.Audit(caller, "model.update", deployment.TeamId, deployment.ModelId, Audit.AuditChanges.Between(before, Describe(deployment)));
            Touch(deployment);
            return deployment;
        }, ct);
    }

    /// <summary>Removes one deployment; the alias and the team's <c>models</c> entry go with the last deployment of the name.</summary>
    public async Task<ModelDeployment> DeleteAsync(Caller caller, string? modelId, CancellationToken ct = default)
    {
        modelId = Check.Required(modelId, "id", 128);
        return await changes.ApplyAsync(async () =>
        {
            var deployment = await Db.Deployments.SingleOrDefaultAsync(d => d.ModelId == modelId, ct);
            deployment = Demand.VisibleModel(caller, KeyTeam(caller), deployment, modelId);
            Demand.ManageModel(caller, deployment.TeamId);
            Db.Deployments.Remove(deployment);
            await LeaveGroupAsync(deployment, ct);
            changes.Audit(caller, "model.delete", deployment.TeamId, deployment.ModelId, Describe(deployment));
            Touch(deployment);
            return deployment;
        }, ct);
    }

    /// <summary>The deployments the caller may see (<see cref="ModelVisibility"/>, the rule of <see cref="GetAsync"/>).</summary>
    public async Task<IReadOnlyList<ModelDeployment>> ListAsync(Caller caller, string? teamId = null, CancellationToken ct = default)
    {
        var query = Db.Deployments.AsNoTracking().Where(ModelVisibility.Of(caller, KeyTeam(caller)));
        if (teamId is not null)
        {
            query = query.Where(d => d.TeamId == teamId);
        }
        return [.. (await query.OrderBy(d => d.CreatedAt).ToListAsync(ct)).Select(d => ModelVisibility.AsShown(caller, d))];
    }

    public async Task<ModelDeployment> GetAsync(Caller caller, string modelId, CancellationToken ct = default) =>
        ModelVisibility.AsShown(caller,
            Demand.VisibleModel(caller, KeyTeam(caller), await Db.Deployments.AsNoTracking().SingleOrDefaultAsync(d => d.ModelId == modelId, ct), modelId));

    private void Touch(ModelDeployment d)
    {
        if (d.TeamId is null)
        {
            changes.TouchEverything();
        }
        else
        {
            changes.TouchTeam(d.TeamId);
        }
    }

    /// <summary>A <c>*</c> in a public name is a wildcard deployment's, and only as its last character (<c>openai/*</c>, <c>*</c>).</summary>
    private static string WildcardChecked(string publicName) =>
        !publicName.Contains('*') || ModelPattern.IsPattern(publicName) ? publicName
            : throw ProxyError.BadRequest($"model_name {publicName} has a * that is not its last character: a wildcard model is named like openai/* or *.", "model_name")
                .InPlainWords("A * may only end a public name: it makes a wildcard model, named like openai/* or *.");

    /// <summary>Masked form of the stored provider key, e.g. <c>****cb07</c>.</summary>
    public static string? MaskedKey(ModelDeployment d) => d.ApiKeyHint is null ? null : "****" + d.ApiKeyHint;

    /// <summary>The key's team as the current snapshot holds it: its <c>models</c> list limits the global models the key sees.</summary>
    private TeamEntry? KeyTeam(Caller caller) => caller.KeyTeamId is { } own ? routes.Current.Teams.GetValueOrDefault(own) : null;

    /// <summary>Puts the deployment in the group of <paramref name="publicName"/>: a team's existing alias, or a new one.</summary>
    private async Task JoinGroupAsync(ModelDeployment deployment, string publicName, CancellationToken ct)
    {
        if (deployment.TeamId is not { } teamId)
        {
            deployment.ModelName = publicName;
            deployment.PublicName = null;
            return;
        }
        deployment.PublicName = publicName;
        var alias = await Db.Aliases.SingleOrDefaultAsync(a => a.TeamId == teamId && a.PublicName == publicName, ct);
        if (alias is null)
        {
            var team = await Db.Teams.SingleAsync(t => t.TeamId == teamId, ct);
            if (team.ModelAliases.ContainsKey(publicName))
            {
                // Team aliases are looked up first: the model would be unreachable by its own name.
                throw ProxyError.BadRequest(
                    $"model_name {publicName} is one of team {teamId}'s model_aliases. Remove the alias with /team/update, or pick another model_name.", "model_name")
                    .InPlainWords($"{publicName} is already one of this team's model aliases: remove the alias on the Alias table tab, or choose another name.");
            }
            alias = new ModelAlias { TeamId = teamId, PublicName = publicName, InternalName = $"model_name_{teamId}_{Guid.NewGuid()}" };
            Db.Aliases.Add(alias);
            if (!team.Models.Contains(publicName))
            {
                team.Models = [.. team.Models, publicName];
            }
        }
        deployment.ModelName = alias.InternalName;
    }

    private async Task LeaveGroupAsync(ModelDeployment deployment, CancellationToken ct)
    {
        if (deployment.TeamId is not { } teamId || deployment.PublicName is not { } publicName)
        {
            return;
        }
        var others = await Db.Deployments.AnyAsync(d => d.ModelName == deployment.ModelName && d.ModelId != deployment.ModelId, ct);
        if (others)
        {
            return;
        }
        await Db.Aliases.Where(a => a.TeamId == teamId && a.PublicName == publicName).ExecuteDeleteAsync(ct);
        var team = await Db.Teams.SingleAsync(t => t.TeamId == teamId, ct);
        team.Models = team.Models.Where(m => m != publicName).ToList();
    }

    private void ApplyParams(ModelDeployment d, ModelInput input)
    {
        var name = Provider.Of(d.UpstreamModel, input.CustomLlmProvider ?? (input.UpstreamModel is null ? d.Provider : null));
        var provider = Provider.Named(name) ?? throw ProxyError.BadRequest(
            $"Provider '{name}' is not supported. Supported providers: {string.Join(", ", Provider.Supported)} (any other OpenAI-compatible server works as openai or hosted_vllm with api_base).",
            "litellm_params.custom_llm_provider");
        d.Provider = provider.Name;
        if (input.ApiBase is not null)
        {
            d.ApiBase = upstreams.ValidApiBase(input.ApiBase);
        }
        if (input.ApiVersion is not null)
        {
            d.ApiVersion = Check.Text(input.ApiVersion, "litellm_params.api_version", 64);
        }
        if (input.TimeoutSeconds is { } timeout)
        {
            d.TimeoutSeconds = timeout is > 0 and <= 3600 ? timeout
                : throw ProxyError.BadRequest("litellm_params.timeout must be between 0 and 3600 seconds.", "litellm_params.timeout")
                    .InPlainWords("The timeout is between 1 and 3600 seconds.");
        }
        if (!string.IsNullOrEmpty(input.ApiKey))
        {
            var key = Check.Text(input.ApiKey, "litellm_params.api_key", 4096);
            if (key.StartsWith("os.environ/", StringComparison.Ordinal))
            {
                // The environment is the gateway's own: a team could name the master key and send it to its api_base.
                throw ProxyError.BadRequest("litellm_params.api_key: os.environ/ references are not supported; the gateway does not hand out "
                    + "its own environment. Send the provider key itself: it is stored encrypted and never shown again.", "litellm_params.api_key")
                    .InPlainWords("Paste the provider's key itself: an os.environ/ reference would read the gateway's own environment, which it does not hand out.");
            }
            d.ApiKeyCipher = secrets.Seal(key);
            d.ApiKeyHint = key.Length >= 12 ? key[^4..] : null;
        }
        ApplyCloudParams(d, provider, input.Cloud);
        if (provider.Name == Provider.VertexAi)
        {
            // Which model, location and key file Vertex AI can take is the Vertex dialect's to say.
            Providers.Vertex.VertexRegistration.Check(Provider.UpstreamName(d.UpstreamModel, provider.Name), d.VertexLocation,
                input.Cloud?.GetValueOrDefault(CloudParams.VertexCredentials) is { Length: > 0 } keyFile ? keyFile : null, upstreams);
        }
        if (input.ExtraParams is not null) d.ExtraParams = WithoutSecrets(input.ExtraParams);
        if (input.ExtraInfo is not null) d.ExtraInfo = input.ExtraInfo;
        DeploymentParams.Validate(DeploymentParams.Parse(d.ExtraParams) ?? [], DeploymentParams.Parse(d.ExtraInfo));
        if (provider.DefaultBase is null && d.ApiBase is null && !provider.IsRegional)
        {
            throw ProxyError.BadRequest(
                $"litellm_params.api_base is required for {provider.Name} models: {provider.Name} has no public endpoint (e.g. {provider.ExampleBase}).", "litellm_params.api_base")
                .InPlainWords($"{provider.DisplayName} models need the API base, e.g. {provider.ExampleBase}.");
        }
    }

    /// <summary>
    /// A cloud deployment's params: the secret ones merged into its sealed set (one left out or empty keeps the stored
    /// one, as api_key does), the others into their columns. A param its provider does not take is a 400 naming it; a
    /// provider change drops those the new one does not take.
    /// </summary>
    private void ApplyCloudParams(ModelDeployment d, Provider provider, IReadOnlyDictionary<string, string>? given)
    {
        foreach (var (name, _) in given ?? new Dictionary<string, string>())
        {
            if (!provider.CloudFields.Contains(name))
            {
                throw ProxyError.BadRequest($"litellm_params.{name} is not used by {provider.Name} models: "
                    + (CloudParams.Aws.Contains(name) ? "it is for Amazon Bedrock (bedrock/...)." : "it is for Vertex AI (vertex_ai/...).")
                    + (provider.IsRegional ? "" : $" A {provider.Name} model's key goes in litellm_params.api_key."),
                    $"litellm_params.{name}");
            }
        }
        var stored = d.CloudSecretsCipher is null ? new Dictionary<string, string>()
            : System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(secrets.Open(d.CloudSecretsCipher)) ?? [];
        var changed = false;
        if (given is not null && (given.ContainsKey(CloudParams.AwsAccessKeyId) || given.ContainsKey(CloudParams.AwsSecretAccessKey))
            && !given.ContainsKey(CloudParams.AwsSessionToken) && stored.Remove(CloudParams.AwsSessionToken))
        {
            // A session token belongs to the key pair it was issued with: a new pair without one has none.
            changed = true;
        }
        foreach (var (name, value) in given ?? new Dictionary<string, string>())
        {
            if (CloudParams.IsSecret(name))
            {
                if (value.Length > 0)
                {
                    stored[name] = value;
                    changed = true;
                }
                continue;
            }
            var text = value.Length == 0 ? null : CloudParams.CheckedValue(name, value);
            switch (name)
            {
                case CloudParams.AwsRegionName: d.AwsRegionName = text; break;
                case CloudParams.VertexProject: d.VertexProject = text; break;
                case CloudParams.VertexLocation: d.VertexLocation = text; break;
            }
        }
        foreach (var name in stored.Keys.Where(n => !provider.CloudFields.Contains(n)).ToList())
        {
            stored.Remove(name);
            changed = true;
        }
        if (!provider.CloudFields.Contains(CloudParams.AwsRegionName)) d.AwsRegionName = null;
        if (!provider.CloudFields.Contains(CloudParams.VertexProject)) d.VertexProject = null;
        if (!provider.CloudFields.Contains(CloudParams.VertexLocation)) d.VertexLocation = null;
        if (changed)
        {
            d.CloudSecretsCipher = stored.Count == 0 ? null : secrets.Seal(System.Text.Json.JsonSerializer.Serialize(stored));
            d.CloudSecretsHint = stored.Count == 0 ? null
                : System.Text.Json.JsonSerializer.Serialize(CloudParams.Secrets.Where(stored.ContainsKey).ToDictionary(n => n, n => CloudParams.Mask(n, stored[n])));
        }
        foreach (var required in provider.RequiredCloudFields)
        {
            if (!stored.ContainsKey(required) && CloudParams.Stored(d, required) is null)
            {
                throw ProxyError.BadRequest($"litellm_params.{required} is required for {provider.Name} models.", $"litellm_params.{required}")
                    .InPlainWords($"{provider.DisplayName} models need {required}.");
            }
        }
        if (provider.CloudFields.Contains(CloudParams.AwsAccessKeyId))
        {
            // Signed with an AWS key pair, or sent with a Bedrock API key (api_key) as a Bearer token: one of the two, whole.
            var pair = stored.ContainsKey(CloudParams.AwsAccessKeyId) && stored.ContainsKey(CloudParams.AwsSecretAccessKey);
            if (!pair && (stored.ContainsKey(CloudParams.AwsAccessKeyId) || stored.ContainsKey(CloudParams.AwsSecretAccessKey) || d.ApiKeyCipher is null))
            {
                var missing = stored.ContainsKey(CloudParams.AwsAccessKeyId) ? CloudParams.AwsSecretAccessKey : CloudParams.AwsAccessKeyId;
                throw ProxyError.BadRequest($"litellm_params.{missing} is required for {provider.Name} models: give aws_access_key_id and aws_secret_access_key "
                    + "(and aws_session_token for temporary credentials), or a Bedrock API key as api_key.", $"litellm_params.{missing}")
                    .InPlainWords("Bedrock models need the AWS access key id and secret access key (or a Bedrock API key).");
            }
        }
    }

    /// <summary>
    /// Other litellm_params are stored in clear and returned as given, so anything that looks like a credential is
    /// refused: the provider key belongs in api_key, which is sealed.
    /// </summary>
    private static string WithoutSecrets(string extraParams)
    {
        var names = System.Text.Json.Nodes.JsonNode.Parse(extraParams)!.AsObject().Select(p => p.Key.ToLowerInvariant());
        var secret = names.FirstOrDefault(n => n.Contains("secret") || n.Contains("password") || n.Contains("credential")
            || n.EndsWith("key", StringComparison.Ordinal)
            || (n.EndsWith("token", StringComparison.Ordinal) && !n.EndsWith("_cost_per_token", StringComparison.Ordinal)));
        return secret is null ? extraParams
            : throw ProxyError.BadRequest($"litellm_params.{secret} is not supported: the provider's key goes in litellm_params.api_key, which is stored encrypted.", $"litellm_params.{secret}");
    }

    private static object Describe(ModelDeployment d) => new
    {
        model_name = d.PublicName ?? d.ModelName, internal_name = d.ModelName, d.Provider, model = d.UpstreamModel,
        d.ApiBase, d.ApiVersion, api_key = MaskedKey(d), cloud_secrets = d.CloudSecretsHint is null ? null : CloudParams.Masked(d),
        aws_region_name = d.AwsRegionName, vertex_project = d.VertexProject, vertex_location = d.VertexLocation,
    };
}
