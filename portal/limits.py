"""The largest values the database columns hold, the same on PostgreSQL and SQLite.

Forms, serializers and services refuse anything larger with a message, instead of letting the
database raise (a server error on PostgreSQL, a silent 64-bit value on SQLite)."""

#: IntegerField and PositiveIntegerField: PostgreSQL's `integer`.
MAX_INT = 2_147_483_647
#: PositiveBigIntegerField: PostgreSQL's `bigint`.
MAX_BIGINT = 9_223_372_036_854_775_807
