using Atc.Gc.Database;
using Atc.Gc.IntegrationTests.Infrastructure;
using Atc.Gc.Lifecycle;
using Atc.Gc.Model;
using Dapper;

namespace Atc.Gc.IntegrationTests;

public sealed class SchemaContractTests(PostgresFixture fixture) : PostgresTest(fixture)
{
    public static TheoryData<string, string[]> ContractColumns => new()
    {
        { "workers", ["name", "state", "base_url", "heartbeat_at"] },
        { "base_resource_types", ["id", "name"] },
        { "worker_base_resource_types", ["id", "worker_name", "base_resource_type_id", "image", "version"] },
        { "resource_configs", ["id", "base_resource_type_id", "resource_cache_id", "source_hash"] },
        { "resource_caches", ["id", "resource_config_id", "version", "version_digest", "params_hash"] },
        { "pipelines", ["id", "paused", "archived"] },
        { "jobs", ["id", "pipeline_id", "paused"] },
        { "builds", ["id", "job_id", "status", "completed", "started_at", "ended_at"] },
        { "resources", ["id", "resource_config_id"] },
        { "resource_types", ["id", "resource_config_id"] },
        { "resource_cache_uses", ["resource_cache_id", "build_id", "resource_id", "resource_type_id"] },
        { "next_build_inputs", ["job_id", "resource_cache_id"] },
        { "image_resource_versions", ["build_id", "resource_cache_id"] },
        { "task_caches", ["id", "job_id", "step_name", "path", "last_used", "ttl"] },
        { "containers", ["id", "handle", "worker_name", "state", "build_id", "resource_config_id"] },
        {
            "volumes",
            [
                "id", "handle", "worker_name", "state", "container_id", "resource_cache_id", "worker_base_resource_type_id",
                "task_cache_id", "parent_id", "parent_state", "missing_since", "created_at", "state_changed_at",
            ]
        },
    };

    [Theory]
    [MemberData(nameof(ContractColumns))]
    public async Task Contract_tables_have_their_documented_columns(string table, string[] columns)
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        var actual = (await connection.QueryAsync<string>(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = @table",
            new { table })).ToHashSet();

        Assert.All(columns, column => Assert.Contains(column, actual));
    }

    [Fact]
    public async Task Volume_state_enum_has_exactly_the_lifecycle_labels_in_order() =>
        Assert.Equal(VolumeStates.Labels.Labels, await EnumLabelsAsync("volume_state"));

    [Fact]
    public async Task Worker_container_and_build_enums_match_their_explicit_mappings()
    {
        Assert.Equal(WorkerStates.Labels.Labels, await EnumLabelsAsync("worker_state"));
        Assert.Equal(ContainerStates.Labels.Labels, await EnumLabelsAsync("container_state"));
        Assert.Equal(BuildStatuses.Labels.Labels, await EnumLabelsAsync("build_status"));
    }

    [Fact]
    public async Task Orphan_marking_predicate_is_served_by_the_orphan_candidates_partial_index()
    {
        var destroy = VolumeTransitions.For(VolumeTrigger.Destroy);
        await using var connection = await DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync("SET enable_seqscan = off");
        var plan = string.Join('\n', await connection.QueryAsync<string>(
            $"EXPLAIN SELECT v.id FROM volumes v WHERE {destroy.PredicateSql("v")}"));

        Assert.Contains("volumes_orphan_candidates", plan, StringComparison.Ordinal);
    }

    private async Task<IReadOnlyList<string>> EnumLabelsAsync(string type)
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        return (await connection.QueryAsync<string>(
            "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = @type ORDER BY e.enumsortorder",
            new { type })).AsList();
    }
}
