/// The file `cutover init` writes.
enum ConfigTemplate {
    static let text = """
        # cutover.yml — every key is optional; command-line flags work without this file.
        # Values may use ${ENV_VAR} or ${ENV_VAR:-default}; secrets are never printed or stored.

        # Named connections: pass the name wherever a URL is accepted (--source source).
        connections:
          source: postgres://app:${PGPASSWORD}@localhost:5432/shop?sslmode=prefer
          target: sqlite:.cutover/target.db
          # warehouse: snowflake://loader@myorg-myaccount/ANALYTICS/RAW?warehouse=LOAD_WH&role=LOADER

        # Where runs, results and logs are kept. Default: an embedded SQLite file.
        # For a team: store: postgres://cutover:${CUTOVER_STORE_PASSWORD}@db:5432/cutover
        store: sqlite:.cutover/cutover.db

        # Names per environment, used by templated SQL ({{database}}, {{schema}}).
        default_environment: DEV
        environments:
          DEV:  { database: ANALYTICS_DEV,  schema: RAW }
          TEST: { database: ANALYTICS_TEST, schema: RAW }
          UAT:  { database: ANALYTICS_UAT,  schema: RAW }
          PROD: { database: ANALYTICS,      schema: RAW }

        # Which tables to work on: glob patterns on schema.table or table.
        tables:
          include: []          # e.g. [public.*]
          exclude: []          # e.g. [public.tmp_*, "*_backup"]

        # Your decisions win over the built-in type rules.
        overrides:
          types: {}            # source type → target type, e.g. { numeric: "NUMBER(38,10)" }
          columns: {}          # schema.table.column → target type, e.g. { "public.orders.note": "VARCHAR(2000)" }

        # How single tables move where they differ from the command's flags (schema.table, table or glob):
        # mode (copy/append/upsert), watermark (incremental, upserting), truncate, chunk_rows.
        table_settings: {}     # e.g. { public.orders: { watermark: updated_at, chunk_rows: 100000 }, "dim_*": { truncate: true } }

        # The server's SQL runner offers these queries, templated per environment.
        queries:
          row_counts:
            description: Tables of the environment's schema with their row counts (Snowflake)
            sql: SELECT table_name, row_count FROM {{database}}.information_schema.tables WHERE table_schema = '{{schema}}' ORDER BY 1

        # Where alerts go (`cutover alerts add …` names these channels) and how often `serve` checks the rules.
        # alerts:
        #   interval: 30s
        #   smtp: "smtp://cutover:${SMTP_PASSWORD}@mail.example.com:587?from=cutover@example.com"
        #   channels:
        #     ops-hook: { webhook: "https://hooks.example.com/cutover", secret: "${HOOK_SECRET}" }
        #     oncall-mail: { email: [oncall@example.com] }

        # Your ingestion tool's metadata tables, for `cutover ingestion health` and the ingestion alerts.
        # ingestion:
        #   connection: target
        #   pipelines: metadata_config_table_elt
        #   history: elt_load_history
        #   environment: PROD
        #   expected_every: 24h

        """
}
