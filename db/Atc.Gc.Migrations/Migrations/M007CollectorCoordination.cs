using FluentMigrator;

namespace Atc.Gc.Migrations.Migrations;

/// <summary>
/// One collection budget for the cluster. <c>collector_runs</c>: when each collector last started and
/// finished, and on which node, so that several orchestrators on one database run each collector once
/// per interval (or once per change signal) between them. <c>collector_budget</c>: the cluster's pass
/// budget — which node holds the turn to pass, and when the passes so far have been paid for at the
/// configured share of time. <c>collector_control</c>: an operator's switch
/// that pauses collection everywhere (<c>atc-gc gc pause|resume</c>); no row means not paused.
/// </summary>
[Migration(7, "Collector coordination across processes and the pause switch")]
public sealed class M007CollectorCoordination : Migration
{
    public override void Up() => Execute.Sql(
        """
        CREATE TABLE collector_runs (
            collector        text PRIMARY KEY,
            last_started_at  timestamptz NOT NULL,
            last_finished_at timestamptz,
            last_duration_ms double precision,
            last_node        text NOT NULL,
            last_error       text,
            runs             bigint NOT NULL DEFAULT 1
        );

        CREATE TABLE collector_budget (
            one        boolean PRIMARY KEY DEFAULT true CHECK (one),
            busy_until timestamptz NOT NULL,
            busy_node  text NOT NULL,
            free_at    timestamptz NOT NULL
        );

        CREATE TABLE collector_control (
            one       boolean PRIMARY KEY DEFAULT true CHECK (one),
            paused    boolean NOT NULL DEFAULT false,
            paused_by text,
            paused_at timestamptz,
            reason    text
        );
        """);

    public override void Down() => Execute.Sql("DROP TABLE collector_control, collector_budget, collector_runs");
}
