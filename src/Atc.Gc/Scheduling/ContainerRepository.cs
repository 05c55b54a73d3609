using Atc.Gc.Database;
using Atc.Gc.Lifecycle;
using Atc.Gc.Model;
using Npgsql;

namespace Atc.Gc.Scheduling;

/// <summary>What a container exists for: a build's step, or checking a resource config.</summary>
public sealed record ContainerOwner(long? BuildId = null, long? ResourceConfigId = null)
{
    public static ContainerOwner Build(long buildId) => new(BuildId: buildId);

    public static ContainerOwner Check(long resourceConfigId) => new(ResourceConfigId: resourceConfigId);
}

public sealed record Container(long Id, string Handle, string WorkerName, ContainerState State, long? BuildId, long? ResourceConfigId);

/// <summary>How an attempt to create a container ended.</summary>
public enum CreateContainerOutcome
{
    Created,

    /// <summary>The worker does not exist (any more): it was pruned or retired meanwhile. Place the container elsewhere.</summary>
    WorkerGone,

    /// <summary>The build or resource config named as the owner does not exist (any more).</summary>
    OwnerGone,

    HandleTaken,
}

/// <param name="Container">The new container when <see cref="Outcome"/> is <see cref="CreateContainerOutcome.Created"/>.</param>
/// <param name="Detail">Why it was not created.</param>
public sealed record CreateContainerResult(CreateContainerOutcome Outcome, Container? Container, string? Detail = null)
{
    public bool Succeeded => Outcome == CreateContainerOutcome.Created;
}

/// <summary>Containers on workers; their volumes hang off them through <c>volumes.container_id</c>.</summary>
public sealed class ContainerRepository(NpgsqlDataSource dataSource)
{
    private static readonly RowTransition<ContainerState, ContainerTrigger> MarkCreated = ContainerLifecycle.Definition.For(ContainerTrigger.MarkCreated);
    private static readonly RowTransition<ContainerState, ContainerTrigger> Fail = ContainerLifecycle.Definition.For(ContainerTrigger.Fail);

    /// <summary>
    /// Creates a container (state creating) on a worker for a build or a resource config. A worker,
    /// build or config that went away comes back as a typed result, not an exception.
    /// </summary>
    public async Task<CreateContainerResult> CreateAsync(string workerName, ContainerOwner owner, string? handle = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(owner);
        WorkerNames.Validate(workerName, nameof(workerName));
        if (owner.BuildId is null && owner.ResourceConfigId is null)
        {
            throw new ArgumentException("a container needs an owner: a build or a resource config", nameof(owner));
        }

        var parameters = new { handle = HandleFormat.Validate(handle ?? HandleFormat.New()), workerName, owner.BuildId, owner.ResourceConfigId };
        try
        {
            var row = await dataSource.QuerySingleOrDefaultAsync<ContainerRow>(
                $"""
                INSERT INTO containers (handle, worker_name, build_id, resource_config_id)
                VALUES (@handle, @workerName, @BuildId, @ResourceConfigId)
                RETURNING {Columns}
                """,
                parameters,
                cancellationToken);
            return new CreateContainerResult(CreateContainerOutcome.Created, row!.ToContainer());
        }
        catch (PostgresException ex) when (ex.IsForeignKeyViolation("containers_worker_name_fkey"))
        {
            return new CreateContainerResult(CreateContainerOutcome.WorkerGone, null, $"worker '{workerName}' does not exist");
        }
        catch (PostgresException ex) when (ex.IsForeignKeyViolation())
        {
            return new CreateContainerResult(CreateContainerOutcome.OwnerGone, null, $"{ex.ConstraintName}: {ex.Detail}");
        }
        catch (PostgresException ex) when (ex.IsUniqueViolation("containers_handle_key"))
        {
            return new CreateContainerResult(CreateContainerOutcome.HandleTaken, null, ex.Detail);
        }
    }

    /// <summary>creating → created: the worker made it. False when the container is not creating.</summary>
    public Task<bool> MarkCreatedAsync(long containerId, CancellationToken cancellationToken = default) => dataSource.UpdatesOneAsync(
        $"UPDATE containers c SET {MarkCreated.SetStateSql} WHERE c.id = @containerId AND {MarkCreated.FromStatesSql("c")}",
        new { containerId }, cancellationToken);

    /// <summary>creating → failed. False when the container is not creating.</summary>
    public Task<bool> MarkFailedAsync(long containerId, CancellationToken cancellationToken = default) => dataSource.UpdatesOneAsync(
        $"UPDATE containers c SET {Fail.SetStateSql} WHERE c.id = @containerId AND {Fail.FromStatesSql("c")}",
        new { containerId }, cancellationToken);

    public async Task<Container?> FindAsync(long containerId, CancellationToken cancellationToken = default) =>
        (await dataSource.QuerySingleOrDefaultAsync<ContainerRow>(
            $"SELECT {Columns} FROM containers WHERE id = @containerId", new { containerId }, cancellationToken))?.ToContainer();

    private const string Columns = "id, handle, worker_name, state::text AS state, build_id, resource_config_id";

    private sealed class ContainerRow
    {
        public long Id { get; init; }

        public string Handle { get; init; } = string.Empty;

        public string WorkerName { get; init; } = string.Empty;

        public string State { get; init; } = string.Empty;

        public long? BuildId { get; init; }

        public long? ResourceConfigId { get; init; }

        public Container ToContainer() =>
            new(Id, Handle, WorkerName, ContainerStates.Labels.Parse(State), BuildId, ResourceConfigId);
    }
}
