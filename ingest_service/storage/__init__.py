"""Where accepted events go: one sink interface, a PostgreSQL and an embedded Parquet implementation."""
