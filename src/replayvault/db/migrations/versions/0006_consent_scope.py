"""consent ledger (append-only receipts) and ingest incidents (capture scope, consent)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 02:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('consent_receipts',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('session_id', sa.String(length=64), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('banner_id', sa.String(length=64), nullable=False),
    sa.Column('banner_version', sa.String(length=32), nullable=False),
    sa.Column('purposes', sa.JSON(), nullable=False),
    sa.Column('tc_string', sa.Text(), nullable=True),
    sa.Column('tcf', sa.JSON(), nullable=True),
    sa.Column('gpc', sa.Boolean(), nullable=False),
    sa.Column('dnt', sa.Boolean(), nullable=False),
    sa.Column('client_ms', sa.BigInteger(), nullable=False),
    sa.Column('decided_ms', sa.BigInteger(), nullable=False),
    sa.Column('received_ms', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('audit_idx', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('audit_idx')
    )
    with op.batch_alter_table('consent_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_receipts_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consent_receipts_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consent_receipts_received_ms'), ['received_ms'], unique=False)

    op.create_table('ingest_incidents',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('session_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('rule', sa.String(length=200), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('received_ms', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ingest_incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ingest_incidents_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ingest_incidents_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ingest_incidents_received_ms'), ['received_ms'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ingest_incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ingest_incidents_received_ms'))
        batch_op.drop_index(batch_op.f('ix_ingest_incidents_session_id'))
        batch_op.drop_index(batch_op.f('ix_ingest_incidents_project_id'))
    op.drop_table('ingest_incidents')
    with op.batch_alter_table('consent_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_receipts_received_ms'))
        batch_op.drop_index(batch_op.f('ix_consent_receipts_session_id'))
        batch_op.drop_index(batch_op.f('ix_consent_receipts_project_id'))
    op.drop_table('consent_receipts')
