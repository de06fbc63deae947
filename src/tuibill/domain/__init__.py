"""Pure business rules: no Textual, no Peewee, no I/O."""
