-- gatehouse_schema_info records the oldest binary this schema still serves:
-- min_binary_schema is the newest migration that binary embeds. A binary
-- newer than or equal to it runs against this schema even when the schema is
-- newer than the binary (rolling upgrades, rollbacks); an older one refuses to
-- start. A migration that removes what older binaries use (a contract step)
-- raises it; adding tables, nullable columns or columns with defaults does not.
CREATE TABLE gatehouse_schema_info (id integer NOT NULL PRIMARY KEY CHECK (id = 1), min_binary_schema bigint NOT NULL);
-- Adding this table changes nothing older binaries use.
INSERT INTO gatehouse_schema_info (id, min_binary_schema) VALUES (1, 20261123023947);
