using FluentMigrator;

namespace Atc.Gc.Migrations.Migrations;

/// <summary>
/// Revocable worker tokens: <c>worker_credentials</c> holds each worker name's token generation,
/// which is mixed into the token derived from the orchestrator's secret. A name without a row has
/// generation 0 (the tokens handed out before this migration). The row outlives the <c>workers</c>
/// row on purpose (no foreign key): pruning a worker, or deleting it when its retirement completes,
/// bumps the generation in the same statement, so the old token cannot register the name again;
/// <c>atc-gc worker-token NAME --rotate</c> bumps it by hand.
/// </summary>
[Migration(6, "Worker token generations: revocation and rotation of a worker's token")]
public sealed class M006WorkerCredentials : Migration
{
    public override void Up() => Execute.Sql(
        """
        CREATE TABLE worker_credentials (
            name       text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$'),
            generation bigint NOT NULL CHECK (generation >= 0),
            rotated_at timestamptz NOT NULL DEFAULT now()
        );
        """);

    public override void Down() => Execute.Sql("DROP TABLE worker_credentials");
}
