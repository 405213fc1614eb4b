DROP TABLE gatehouse_schema_info;
