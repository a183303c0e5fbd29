"""On PostgreSQL, the database itself refuses UPDATE and DELETE on audit events (and DELETE of the head).

The application never changes an event; this trigger stops anyone else going through the application's
database account as well. A DBA who must run a repair or a tamper drill disables it explicitly, as the
table owner, which leaves a trace in the server log (see docs/guide/journal.md):

    ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only;
    -- ...
    ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only;

On other databases (SQLite: the demo and the tests) these operations do nothing.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION audit_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_reject_change();
CREATE TRIGGER audit_chain_head_keep
    BEFORE DELETE ON audit_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION audit_reject_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS audit_chain_head_keep ON audit_auditchainhead;
DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_reject_change();
"""


class PostgreSQLOnlyRunSQL(migrations.RunSQL):
    """RunSQL that runs only when the database is PostgreSQL."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [PostgreSQLOnlyRunSQL(sql=FORWARD, reverse_sql=BACKWARD, elidable=False)]
