/// SQL fixtures shared by the test targets.
public enum Schemas {
    /// A PostgreSQL schema that uses every type the planner maps, plus keys, indexes, checks,
    /// views, sequences, enums, domains, arrays and partitions.
    public static let everyPostgresType = """
        CREATE SCHEMA shop;
        CREATE TYPE shop.mood AS ENUM ('sad', 'ok', 'happy');
        CREATE DOMAIN shop.positive_amount AS numeric(12,2) CHECK (VALUE > 0);
        CREATE TABLE shop.customers (
            id serial PRIMARY KEY,
            email varchar(120) NOT NULL UNIQUE,
            name text,
            code char(8),
            created_at timestamp(3) DEFAULT now()
        );
        COMMENT ON TABLE shop.customers IS 'people who buy';
        COMMENT ON COLUMN shop.customers.email IS 'login e-mail';
        CREATE TABLE shop.all_types (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            small_value smallint,
            int_value integer NOT NULL DEFAULT 0,
            big_value bigint,
            exact numeric(38,10),
            money_like numeric(12,2),
            loose numeric,
            real_value real,
            double_value double precision,
            short_text varchar(20),
            long_text text,
            fixed char(3),
            flag boolean,
            raw bytea,
            day date,
            clock time,
            clock_tz timetz,
            stamp timestamp,
            stamp_tz timestamptz,
            span interval,
            uid uuid,
            doc json,
            docb jsonb,
            tags text[],
            scores integer[],
            feeling shop.mood,
            amount shop.positive_amount,
            customer_id integer REFERENCES shop.customers (id) ON DELETE SET NULL,
            CONSTRAINT small_positive CHECK (small_value >= 0)
        );
        CREATE INDEX all_types_day ON shop.all_types (day, customer_id);
        CREATE TABLE shop.events (
            id bigserial,
            happened_on date NOT NULL,
            payload jsonb,
            PRIMARY KEY (id, happened_on)
        ) PARTITION BY RANGE (happened_on);
        CREATE TABLE shop.events_2024 PARTITION OF shop.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
        CREATE TABLE shop.events_2025 PARTITION OF shop.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
        CREATE VIEW shop.happy_customers AS SELECT c.* FROM shop.customers c JOIN shop.all_types t ON t.customer_id = c.id WHERE t.feeling = 'happy';
        CREATE SEQUENCE shop.invoice_numbers START 1000 INCREMENT 10;
        CREATE TABLE shop.keyless (note text, n integer);
        INSERT INTO shop.customers (email, name, code) VALUES ('a@example.com', 'Ann', 'A1'), ('b@example.com', 'Bob', NULL);
        INSERT INTO shop.events (happened_on, payload) VALUES ('2024-05-01', '{"a": 1}'), ('2025-02-03', NULL);
        INSERT INTO shop.keyless VALUES ('x', 1), ('x', 1), (NULL, 2);
        """
}
